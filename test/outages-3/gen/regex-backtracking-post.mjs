// After Stack Exchange, 2016-07-20: a user's post contained about 20,000 consecutive whitespace
// characters. The home page renders it, and a trim regex shipped long before backtracks quadratically
// on it, pegging CPU; the load balancer's health check (the home page) failed and took every web
// server out of rotation. A code fix replacing the regex ended it. No deployment or config change
// preceded the onset.
import { Incident, ms, iso, isoS, MIN, SEC } from '../../outages/gen/lib.mjs';

export const slug = 'regex-backtracking-post';
export const source = 'Stack Exchange, "Outage Postmortem - July 20, 2016" (stackstatus.net, 2016-07-20)';

export function build() {
  const I = new Incident({ seed: 160720, company: 'Querystack', domain: 'querystack.com' });
  I.person('oncall', 'Nadia Volkova', { login: 'nvolkova' });
  I.person('ic', 'Ben Okafor', { login: 'bokafor' });
  I.person('dev', 'Chloé Martin', { login: 'cmartin-dev' });
  I.person('dev2', 'Samuel Reyes', { login: 'sreyes' });
  I.person('net', 'Henrik Dahl', { login: 'hdahl-net' });

  const from = ms('2016-07-20T12:30:00Z');
  const to = ms('2016-07-20T16:30:00Z');
  const posted = ms('2016-07-20T14:43:41Z');
  const onset = ms('2016-07-20T14:44:00Z');
  const page = ms('2016-07-20T14:45:52Z');
  const ack = ms('2016-07-20T14:46:30Z');
  const fixDone = ms('2016-07-20T15:17:44Z');
  const resolve = ms('2016-07-20T15:31:05Z');

  // ---- qa-web: the trim helper from months ago (latent), today's innocent deploy, the fix
  const QW = 'querystack/qa-web';
  const latent = I.commit(QW, { message: 'Post excerpts: also trim zero-width non-joiners\n\nSome posts pasted from Persian keyboards start with U+200C and render an empty first line.', author: 'dev2', at: ms('2015-11-04T16:20:00Z'), files: [
    { filename: 'Querystack/Helpers/TextHelper.cs', patch: '@@ -42,7 +42,8 @@ public static class TextHelper\n-        public static string TrimUnicode(this string s) => s?.Trim();\n+        private static readonly Regex _trimUnicode = new Regex(@"^[\\s\\u200c]+|[\\s\\u200c]+$", RegexOptions.Compiled);\n+        public static string TrimUnicode(this string s) => s == null ? null : _trimUnicode.Replace(s, "");' },
  ] });
  I.deploy(QW, { env: 'production', ref: 'build-2015.11.05.2', description: 'qa-web build 2015.11.05.2', createdAt: ms('2015-11-05T14:00:00Z'), finishedAt: ms('2015-11-05T14:09:30Z') });
  I.commit(QW, { message: 'Tag autocomplete: rank synonyms below exact matches', author: 'dev', at: ms('2016-07-20T13:10:00Z'), files: [
    { filename: 'Querystack/Controllers/TagsController.cs', patch: '@@ -118,7 +118,8 @@ public ActionResult Autocomplete(string q)\n-            var tags = _tags.Search(q).OrderByDescending(t => t.Count);\n+            var tags = _tags.Search(q).OrderBy(t => t.IsSynonym)\n+                                      .ThenByDescending(t => t.Count);' },
  ] });
  const todays = I.deploy(QW, { env: 'production', ref: 'build-2016.07.20.3', description: 'qa-web build 2016.07.20.3', createdAt: ms('2016-07-20T14:12:00Z'), finishedAt: ms('2016-07-20T14:21:18Z') });
  const fix = I.commit(QW, { message: 'TrimUnicode: trim with a loop instead of a regex\n\n^[\\s\\u200c]+|[\\s\\u200c]+$ backtracks O(n^2) on long whitespace runs that do not\nreach the end of the string (post 38541102: ~20,000 spaces before a comment).', author: 'dev', at: ms('2016-07-20T15:02:00Z'), files: [
    { filename: 'Querystack/Helpers/TextHelper.cs', patch: '@@ -42,8 +42,13 @@ public static class TextHelper\n-        private static readonly Regex _trimUnicode = new Regex(@"^[\\s\\u200c]+|[\\s\\u200c]+$", RegexOptions.Compiled);\n-        public static string TrimUnicode(this string s) => s == null ? null : _trimUnicode.Replace(s, "");\n+        private static bool IsTrim(char c) => char.IsWhiteSpace(c) || c == \'\\u200c\';\n+        public static string TrimUnicode(this string s)\n+        {\n+            if (s == null) return null;\n+            int a = 0, b = s.Length;\n+            while (a < b && IsTrim(s[a])) a++;\n+            while (b > a && IsTrim(s[b - 1])) b--;\n+            return s.Substring(a, b - a);\n+        }' },
  ] });
  I.deploy(QW, { env: 'production', ref: 'build-2016.07.20.4-hotfix', description: 'qa-web hotfix: TrimUnicode without regex', createdAt: ms('2016-07-20T15:08:00Z'), finishedAt: fixDone, commits: [fix] });

  // ---- innocent: HAProxy change just before the onset
  I.changeEvent({ at: ms('2016-07-20T14:39:30Z'), summary: 'HAProxy config reloaded on ny-lb05/ny-lb06: add backend api-v2.2 (weight 0)', integration: 'puppet', services: ['load-balancers'], custom_details: { hosts: ['ny-lb05', 'ny-lb06'], change: 'backend api_v22 added, weight 0', puppet_run: 88120 } });

  // ---- Datadog
  const down = (t) => t >= onset && t < fixDone + 60 * SEC;
  I.series({ metric: 'web.requests.errors', expression: 'sum:web.requests.errors{env:production}.as_count()', scope: 'env:production', interval: 20, from, to, unit: 'request', fn: (t) => I.noise(60, 0.3) + (down(t) ? I.noise(52000, 0.06) : 0) });
  I.series({ metric: 'system.cpu.user', expression: 'avg:system.cpu.user{role:web}', scope: 'role:web', interval: 20, from, to, unit: 'percent', fn: (t) => (down(t) ? I.noise(97, 0.02) : I.noise(24, 0.15)) });
  I.series({ metric: 'haproxy.backend.servers_up', expression: 'min:haproxy.backend.servers_up{backend:qa_web}', scope: 'backend:qa_web', interval: 20, from, to, unit: 'host', fn: (t) => (t < onset + 40 * SEC ? 11 : t < fixDone + 30 * SEC ? I.int(0, 1) : 11) });
  I.ddEvent({ at: todays.finishedAt, title: 'Deployed qa-web build 2016.07.20.3', source_type_name: 'deploy', tags: ['service:qa-web'] });
  I.ddEvent({ at: ms('2016-07-20T14:45:40Z'), title: '[P1] Triggered: qa-web error rate > 10%', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:qa-web'] });

  // ---- logs
  I.log(posted, 'qa-web', 'info', 'ny-web03', 'POST /posts/38541102/edit-submit 302 (body 21,884 chars, 20,104 whitespace characters in one run)');
  const webs = ['ny-web01', 'ny-web02', 'ny-web03', 'ny-web07', 'ny-web09'];
  I.logsBetween(onset, fixDone, 140, 'qa-web', 'error', webs, () => `Request timed out after 30000ms: GET / \nSystem.Web.HttpException (0x80004005): Request timed out.\n   at System.Text.RegularExpressions.RegexInterpreter.Go()\n   at System.Text.RegularExpressions.Regex.Replace(String input, String replacement)\n   at Querystack.Helpers.TextHelper.TrimUnicode(String s) in TextHelper.cs:line 44\n   at Querystack.Models.PostSummary.BuildExcerpt(Post p) in PostSummary.cs:line 61 (post 38541102)\n   at Querystack.Controllers.HomeController.Index()`);
  I.logsBetween(onset + 20 * SEC, fixDone, 80, 'haproxy', 'warn', ['ny-lb05', 'ny-lb06'], () => `Server qa_web/${I.pick(webs)} is DOWN, reason: Layer7 timeout, check duration: 2001ms. ${I.int(0, 2)} active and 0 backup servers left.`);
  I.logsBetween(from, to, 150, 'qa-web', 'info', webs, () => `${I.pick(['GET /questions/', 'GET /users/', 'POST /posts/'])}${I.int(1e6, 3.8e7)} 200 ${I.int(8, 200)}ms`);
  I.log(ms('2016-07-20T13:05:00Z'), 'qa-web', 'warn', 'ny-web07', `SqlConnection retry: Server=ny-sql03;Database=QA;User Id=qa_web;Password=${I.secret('Qs#Sql-Web-2016!x7')}; (timeout 3s)`);

  // ---- PagerDuty
  I.pdTrigger(page, '[P1] qa-web error rate > 10%', 'qa-web');
  I.pdNotify(page + 500, 'oncall');
  I.pdAck(ack, 'oncall');
  I.pdNote(ms('2016-07-20T14:56:00Z'), 'oncall', 'Home page stuck in TrimUnicode regex on post 38541102 (20k whitespace run); health check is the home page, so all web servers marked down.');
  I.pdNote(ms('2016-07-20T15:18:30Z'), 'oncall', 'Hotfix 2016.07.20.4 deployed (no regex). Servers back in rotation.');
  I.pdResolve(resolve, 'ic');

  // ---- Slack
  const at = (t) => ms(`2016-07-20T${t}Z`);
  I.bot(at('14:45:55'), 'PagerDuty', ':rotating_light: *Triggered* #20716 [P1] qa-web error rate > 10%');
  I.say(at('14:46:40'), 'oncall', 'ack. site down, haproxy has 0 of 11 web servers up, CPU pegged on all of them');
  const th = I.say(at('14:47:30'), 'net', 'I reloaded haproxy on lb05/06 at 14:39 for the api-v2.2 backend. revert?');
  I.say(at('14:48:20'), 'oncall', 'haproxy is right to mark them down: the web servers really time out on / with CPU at 100%. the new backend has weight 0', { thread: th });
  I.say(at('14:49:00'), 'ic', 'build 2016.07.20.3 went out 14:21, roll it back?');
  I.say(at('14:49:45'), 'dev', 'that is the tag autocomplete ranking, and it was fine for 20 minutes. let us look at what the threads are doing first');
  I.say(at('14:53:10'), 'dev2', 'dumps: every busy thread is in RegexInterpreter.Go under TextHelper.TrimUnicode from PostSummary.BuildExcerpt, post 38541102');
  I.say(at('14:54:30'), 'dev', 'post 38541102 was submitted 14:43 with a run of ~20,000 spaces. the trim regex is from 2015; on a long whitespace run not at the end it backtracks quadratically. the home page shows the post, the health check hits the home page');
  I.say(at('14:56:00'), 'ic', 'fix the trim, skip the regex. deleting the post will not help fast enough, it is cached in the home page list');
  I.say(at('15:18:00'), 'dev', 'hotfix deployed 15:17, CPU back to normal, servers up');
  I.say(at('15:30:30'), 'ic', 'resolving. follow-ups: health check on a cheap endpoint, audit regexes for backtracking');
  I.bot(at('15:31:08'), 'PagerDuty', ':white_check_mark: *Resolved* #20716 [P1] qa-web error rate > 10%');

  const incident = { id: 'Q5QS20716', source: 'pagerduty', title: '[P1] qa-web error rate > 10%', service: 'qa-web', severity: 'SEV1', status: 'resolved', urgency: 'high', incident_number: 20716, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://querystack.pagerduty.com/incidents/Q5QS20716' };
  const bundle = I.bundle({ incident, channel: { id: 'C1SITEDOWN', name: 'ops' }, slackOrder: 'desc' });
  const expected = {
    family: 'latent-defect',
    trigger: null,
    latent_defect: { repo: QW, sha: latent },
    spike_onset: { metric: 'web.requests.errors', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['regex', 'backtrack', 'TrimUnicode', 'whitespace', '38541102'],
    timeline_must_include: [
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
