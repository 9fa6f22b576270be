// People found in a bundle and the role each one played. Reports speak of roles only, so every
// name, login, email and chat mention of a person maps to a role label.
import type { Bundle } from './bundle.js';
import type { PersonAlias } from './redact.js';

export type Role = 'on-call responder' | 'secondary on-call' | 'incident commander' | 'change author' | 'responder';

const ROLE_PHRASE: Record<Role, string> = {
  'on-call responder': 'the on-call responder',
  'secondary on-call': 'the secondary on-call',
  'incident commander': 'the incident commander',
  'change author': 'the change author',
  responder: 'a responder',
};

interface Person {
  aliases: Set<string>;
  role: Role;
}

const ROLE_RANK: Record<Role, number> = {
  'incident commander': 5,
  'on-call responder': 4,
  'secondary on-call': 3,
  responder: 2,
  'change author': 1,
};

/** Keys under which log lines (audit trails, access logs) record who did something. */
// (keys in lower case, as log fields are: a case-sensitive scan is several times cheaper on every line)
const PERSON_FIELD = /\b(user(?:name)?|login|by|uid|owner|actor|operator|author|sudo_user|requested_by|approved_by|initiator)(=|:\s?)(["']?)([A-Za-z][\w.-]{1,31})\3(?![\w@])/g;
const PERSON_KEY_END = /(?:user(?:name)?|login|by|uid|owner|actor|operator|author|initiator)$/;

/** Whether some `=` or `:` in the line follows a person key: jumping between separators is cheaper than a regex over every position. */
function hasPersonField(line: string): boolean {
  for (const sep of ['=', ':']) {
    for (let i = line.indexOf(sep); i > 0; i = line.indexOf(sep, i + 1)) {
      const c = line.charCodeAt(i - 1);
      // the last letters of the keys: r, n, y, d, e
      if ((c === 114 || c === 110 || c === 121 || c === 100 || c === 101) && PERSON_KEY_END.test(line.slice(Math.max(0, i - 9), i))) return true;
    }
  }
  return false;
}
/** Accounts that are machines or placeholders, not people. */
const SYSTEM_ACCOUNT = /^(root|admin|administrator|system|sys|nobody|daemon|www-data|www|nginx|apache|postgres|mysql|redis|ubuntu|ec2-user|centos|debian|guest|anonymous|anon|unknown|none|null|nil|undefined|service|automation|deploy|deployer|ci|bot|scheduler|cron|kubelet|kube-system|default)$/i;

/** How logins are commonly made from a name: `bwalsh`, `brendanw`, `brendan.walsh`, `b.walsh`… */
function loginForms(name: string): string[] {
  const words = name.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length < 2 || !words.every((w) => /^[a-z][a-z'-]*$/.test(w))) return [];
  const first = words[0]!.replace(/['-]/g, '');
  const last = words[words.length - 1]!.replace(/['-]/g, '');
  // (no `b.walsh`: its one-letter first word would send most lines down the slow alias scan)
  return [`${first[0]}${last}`, `${first}${last[0]}`, `${first}.${last}`, `${first}_${last}`, `${first}${last}`].filter((f) => f.length >= 5);
}

function isBotName(name: string): boolean {
  return /\[bot\]$|(^|[-_ ])(bot|automation|ci|deployer)$/i.test(name);
}

export class PeopleDirectory {
  private readonly people: Person[] = [];
  private readonly byAlias = new Map<string, Person>();
  private readonly slackIds = new Map<string, Person>();

  private upsert(aliases: Array<string | null | undefined>, role: Role): Person | null {
    const clean = aliases.filter((a): a is string => typeof a === 'string' && a.trim().length >= 2).map((a) => a.trim());
    if (clean.length === 0) return null;
    let person: Person | undefined;
    for (const a of clean) {
      person = this.byAlias.get(a.toLowerCase());
      if (person) break;
    }
    if (!person) {
      person = { aliases: new Set(), role };
      this.people.push(person);
    } else if (ROLE_RANK[role] > ROLE_RANK[person.role]) {
      person.role = role;
    }
    for (const a of [...clean, ...clean.flatMap(loginForms)]) {
      person.aliases.add(a);
      this.byAlias.set(a.toLowerCase(), person);
      // "jdoe@acme.io" also names "jdoe"
      const local = /^([^@\s]+)@/.exec(a);
      if (local?.[1] && local[1].length >= 3) {
        person.aliases.add(local[1]);
        this.byAlias.set(local[1].toLowerCase(), person);
      }
    }
    return person;
  }

  /** Raises a known person's role (e.g. the Slack user named as commander). */
  private promote(person: Person | undefined, role: Role): void {
    if (person && ROLE_RANK[role] > ROLE_RANK[person.role]) person.role = role;
  }

  static fromBundle(bundle: Bundle): PeopleDirectory {
    const dir = new PeopleDirectory();
    const src = bundle.sources ?? {};

    let firstNotified = true;
    for (const entry of src.pagerduty?.log_entries ?? []) {
      for (const ref of [entry.agent, entry.user]) {
        if (ref?.type !== 'user_reference' || !ref.summary) continue;
        let role: Role = 'responder';
        if (entry.type.startsWith('notify') || entry.type.startsWith('acknowledge') || entry.type.startsWith('assign')) {
          role = firstNotified || entry.type.startsWith('acknowledge') ? 'on-call responder' : 'secondary on-call';
        }
        const person = dir.upsert([ref.summary], role);
        if (person && entry.type.startsWith('notify')) firstNotified = false;
        if (person && entry.type.startsWith('acknowledge')) dir.promote(person, 'on-call responder');
      }
    }
    for (const log of src.opsgenie?.logs ?? []) {
      if (log.owner && !/^(system|alert api|integration)$/i.test(log.owner)) dir.upsert([log.owner], 'responder');
    }

    const slackUsers = src.slack?.users ?? {};
    for (const [userId, user] of Object.entries(slackUsers)) {
      if (user.is_bot) continue;
      const realName = user.real_name ?? undefined;
      const profile = (user as Record<string, unknown>).profile as Record<string, unknown> | undefined;
      const extra = [profile?.display_name, profile?.real_name, profile?.email, (user as Record<string, unknown>).email].filter(
        (v): v is string => typeof v === 'string',
      );
      const person = dir.upsert([realName, user.name ?? undefined, ...extra], 'responder');
      if (person) dir.slackIds.set(userId, person);
    }
    // Roles named in chat ("Commander: <@U…>", "assigned to <@U…>") are facts about the response.
    for (const msg of src.slack?.messages ?? []) {
      const text = msg.text ?? '';
      for (const m of text.matchAll(/\b(?:commander|incident commander|IC)\b[^<]{0,20}<@([A-Z0-9]+)(?:\|[^>]*)?>/gi)) {
        dir.promote(dir.slackIds.get(m[1]!), 'incident commander');
      }
      for (const m of text.matchAll(/\bassigned(?: to)?:?\s*<@([A-Z0-9]+)(?:\|[^>]*)?>/gi)) {
        dir.promote(dir.slackIds.get(m[1]!), 'on-call responder');
      }
    }

    for (const repo of src.github?.repos ?? []) {
      for (const commit of repo.commits ?? []) {
        const login = commit.author?.login ?? undefined;
        const isBot = commit.author?.type === 'Bot' || (login !== undefined && isBotName(login));
        if (isBot) continue;
        dir.upsert(
          [login, commit.commit?.author?.name, commit.commit?.author?.email, commit.commit?.committer?.email === 'noreply@github.com' ? undefined : commit.commit?.committer?.email],
          'change author',
        );
        const committerName = commit.commit?.committer?.name;
        if (committerName && committerName !== 'GitHub' && !isBotName(committerName)) dir.upsert([committerName], 'change author');
      }
      for (const d of repo.deployments ?? []) {
        const login = d.creator?.login;
        if (login && d.creator?.type !== 'Bot' && !isBotName(login)) dir.upsert([login], 'responder');
      }
    }
    return dir;
  }

  /** Aliases for the redactor: every name/login/email, and Slack mentions, mapped to a role phrase. */
  aliases(): PersonAlias[] {
    const out: PersonAlias[] = [];
    for (const person of this.people) {
      const replacement = ROLE_PHRASE[person.role];
      for (const alias of person.aliases) out.push({ alias, replacement });
    }
    for (const [id, person] of this.slackIds) out.push({ alias: `<@${id}>`, replacement: ROLE_PHRASE[person.role] });
    return out;
  }

  /**
   * A log line with whoever `user=`, `login=`, `by=`… names replaced by their role (or "a person"
   * when the bundle does not say who they are), unless the value is an account of a machine or a
   * service in `notPeople`.
   */
  rolesInFields(line: string, notPeople: Set<string>): string {
    if (!hasPersonField(line)) return line;
    return line.replace(PERSON_FIELD, (whole, key: string, sep: string, quote: string, value: string) => {
      const lower = value.toLowerCase();
      const person = this.byAlias.get(lower);
      if (!person && (notPeople.has(lower) || SYSTEM_ACCOUNT.test(lower) || /\d{3,}/.test(value) || /(^|[-_.])(svc|bot|service|system|sa|app|job|worker)([-_.]|$)/.test(lower))) return whole;
      return `${key}${sep}${quote}${person ? ROLE_PHRASE[person.role] : 'a person'}${quote}`;
    });
  }

  /** The role of a Slack user id, for timeline attribution. */
  slackRole(userId: string | null | undefined): string {
    if (!userId) return 'automation';
    const p = this.slackIds.get(userId);
    return p ? p.role : 'responder';
  }

  roleOf(alias: string | null | undefined): string {
    if (!alias) return 'responder';
    return this.byAlias.get(alias.toLowerCase())?.role ?? 'responder';
  }

  size(): number {
    return this.people.length;
  }
}
