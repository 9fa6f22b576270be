// After Hacker News, 2022-07-08: the primary server's SSDs failed; failing over to the standby server
// worked briefly, then its SSDs failed too. Both sets came from the same batch, carried a firmware bug
// that bricks the drive at 40,000 power-on hours, and had been installed together. The site came back
// hours later on a rented cloud instance restored from a backup.
import { Incident, ms, MIN, SEC, HOUR } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'ssd-power-on-hours-firmware';
export const source = 'Hacker News, "Tell HN: HN moved from a colo to AWS" / outage of 2022-07-08 (news.ycombinator.com item 32026548 and the 40,000-hour SSD firmware advisory, HPE a00092491en_us)';

export function build() {
  const I = new Incident({ seed: 20220708, company: 'Threadhall', domain: 'threadhall.org' });
  I.person('oncall', 'Elif Kaya', { login: 'ekaya' });
  I.person('ic', 'Graham McAllister', { login: 'gmcallister', slack: 'graham', email: 'graham@threadhall.org' });
  I.person('sre', 'Tariq Haddad', { login: 'thaddad' });
  I.person('dev', 'Lena Hoffmann', { login: 'lhoffmann' });
  const at = (t) => ms(`2022-07-08T${t}Z`);
  const from = at('10:00:00'), to = at('23:59:00');
  const onset = at('14:03:00'), page = at('14:04:40'), ack = at('14:05:20'), failover = at('14:31:00'), second = at('15:12:00'), restored = at('22:14:00'), resolve = at('22:40:00');

  I.commit('threadhall/forum', { message: 'comments: collapse threads deeper than 12 levels by default', author: 'dev', at: at('09:00:00'), files: [{ filename: 'src/render/thread.arc', patch: '@@ -41,1 +41,2 @@\n-(= collapse-depth* nil)\n+(= collapse-depth* 12)' }] });
  I.deploy('threadhall/forum', { env: 'prod', ref: 'forum-0708', description: 'forum 0708', createdAt: at('12:44:00'), finishedAt: at('12:51:16'), creator: 'lhoffmann' });
  I.changeEvent({ at: at('13:40:20'), summary: 'nightly backup job schedule moved 02:00 -> 03:00 UTC', integration: 'cron-admin', services: ['backup'], custom_details: { job: 'db-snapshot', from: '0 2 * * *', to: '0 3 * * *' } });
  I.changeEvent({ at: failover, summary: 'DNS: threadhall.org A record -> standby (srv-b)', integration: 'dns-admin', services: ['forum'], custom_details: { record: 'threadhall.org', to: 'srv-b' } });

  const down = (t) => (t < onset ? 0 : t < failover + 2 * MIN ? 1 : t < second ? 0.05 : t < restored ? 1 : 0);
  I.series({ metric: 'forum.http.5xx', expression: 'sum:forum.http.5xx{site:threadhall}.as_count()', scope: 'site:threadhall', interval: 60, from, to, unit: 'response', fn: (t) => I.noise(3, 0.6) + down(t) * I.noise(9200, 0.08) });
  I.series({ metric: 'disk.smart.power_on_hours', expression: 'max:disk.smart.power_on_hours{host:srv-a}', scope: 'host:srv-a', interval: 600, from, to, fn: (t) => (t < onset ? 39996 + (t - from) / HOUR : null) });
  I.ddEvent({ at: at('12:51:16'), title: 'forum 0708 deployed', source_type_name: 'deploy', tags: ['service:forum'] });

  I.log(at('14:02:51'), 'kernel', 'error', 'srv-a', 'nvme0: controller is down; will reset: CSTS=0xffffffff, PCI_STATUS=0xffff');
  I.log(at('14:02:53'), 'kernel', 'error', 'srv-a', 'nvme1: controller is down; will reset: CSTS=0xffffffff, PCI_STATUS=0xffff');
  I.log(at('14:02:58'), 'kernel', 'error', 'srv-a', 'md/raid1:md0: Disk failure on nvme1n1p2, disabling device. md/raid1:md0: Operation continuing on 0 devices.');
  I.logsBetween(onset, failover, 40, 'forum', 'error', ['srv-a'], () => `write ${I.pick(['/data/story/', '/data/comment/'])}${I.int(31000000, 32000000)}: Input/output error (EXT4-fs error, device md0)`);
  I.log(at('15:11:44'), 'kernel', 'error', 'srv-b', 'nvme0: controller is down; will reset: CSTS=0xffffffff, PCI_STATUS=0xffff');
  I.log(at('15:11:49'), 'kernel', 'error', 'srv-b', 'nvme1: controller is down; will reset: CSTS=0xffffffff, PCI_STATUS=0xffff');
  I.log(at('14:20:00'), 'smartctl', 'info', 'srv-b', 'nvme0: Power On Hours: 39,999  Firmware: HPD5  Model: MO0400KEFHN');
  I.log(at('14:20:01'), 'smartctl', 'info', 'srv-b', 'nvme1: Power On Hours: 39,999  Firmware: HPD5  Model: MO0400KEFHN');
  I.logsBetween(at('13:41:00'), to, 4, 'backup', 'info', ['backup-1'], () => 'schedule loaded: db-snapshot at 03:00 UTC');
  I.log(at('16:20:00'), 'restore', 'info', 'cloud-tmp-1', `aws s3 cp s3://threadhall-backups/2022-07-07.tar.zst . (AWS_SECRET_ACCESS_KEY=${I.secret('wJ7rXq2Ut9LmVc4Np0ZbKe8HsYd3FgA1oTiRuPwE')})`);

  I.say(at('14:05:40'), 'oncall', 'ack. site 500s on everything, srv-a logging I/O errors');
  const th = I.say(at('14:06:20'), 'dev', 'I deployed the thread collapse change at 12:51, could that write something bad?');
  I.say(at('14:07:30'), 'sre', 'no, both NVMe controllers on srv-a dropped off the bus within 2 seconds at 14:02:51 and md0 has 0 devices. that is hardware, the app is just getting EIO', { thread: th });
  I.say(at('14:08:10'), 'oncall', 'the backup schedule change at 13:40?');
  I.say(at('14:08:40'), 'sre', 'that only moves a cron time, nothing ran');
  I.say(at('14:12:00'), 'ic', 'IC. fail over to srv-b');
  I.say(at('14:33:00'), 'sre', 'on srv-b since 14:31, serving');
  I.say(at('14:52:00'), 'sre', 'worrying: srv-b disks are the same model and batch, both at 39,999 power-on hours. there is a vendor advisory: firmware before HPD8 fails at exactly 40,000 hours');
  I.say(at('15:13:00'), 'sre', 'srv-b disks gone too, 15:11:44. same signature. restoring the last backup to a cloud instance');
  I.say(at('22:16:00'), 'sre', 'back up on the cloud instance 22:14, a few hours of posts lost since the backup');
  I.say(at('22:40:00'), 'ic', 'resolving. follow-ups: never pair drives from one batch, track power-on hours and firmware advisories, standby on different hardware');

  return finish(I, { page, ack, resolve, monitor: 'forum 5xx > 100/min', service: 'forum', number: 22708, opsgenie: true, ogId: 'b2e90a41-6c1f-4d8a-9a73-2f5e0c61d8b9', oncall: 'oncall', ic: 'ic',
    notes: [[at('15:15:00'), 'Both servers lost their SSDs at 40,000 power-on hours (firmware bug). Restoring from backup to cloud.']],
    channel: { id: 'C0THRDSK22', name: 'inc-site-500' }, family: 'hardware', trigger: null,
    metric: 'forum.http.5xx', scope: 'site:threadhall', onset, terms: ['SSD', 'firmware', '40,000', 'power-on hours', 'nvme'] });
}
