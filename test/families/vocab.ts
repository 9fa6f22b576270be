// Surface vocabulary for generated incidents. Everything here is test data: the engine must never
// import it, and no engine rule may name any of it.
import type { Rng } from './prng.js';

export const COMPANIES = [
  'acme', 'larkspur', 'tidewater', 'kestrel', 'brambleco', 'northwind', 'quillon', 'saltmarsh', 'fernhill',
  'orbitly', 'cobaltia', 'juniper-labs', 'harborview', 'meridian', 'palisade', 'wrenfield', 'ashgrove', 'lumenpay',
  'stonebridge', 'copperleaf', 'riverbend', 'glimmer', 'tanager', 'halcyon', 'vantawave', 'pinecrest', 'zephyrus',
  'marigold', 'obsidian-io', 'bluejay', 'sequoia-sys', 'ironclad', 'daybreak', 'foxglove', 'nimbus-co', 'redfern',
];

export const TLDS = ['io', 'com', 'dev', 'app', 'net', 'co'];

/** service domains: a service stem and the resources its API serves */
export const DOMAINS: Array<{ stems: string[]; resources: string[]; nouns: string[] }> = [
  { stems: ['checkout', 'cart', 'basket'], resources: ['orders', 'carts', 'payments', 'line-items'], nouns: ['order', 'cart', 'discount', 'coupon', 'shipping', 'tax', 'voucher'] },
  { stems: ['search', 'catalog', 'discovery'], resources: ['search', 'suggest', 'products', 'facets'], nouns: ['query', 'facet', 'ranking', 'synonym', 'product', 'filter'] },
  { stems: ['billing', 'invoicing', 'ledger'], resources: ['invoices', 'charges', 'refunds', 'accounts'], nouns: ['invoice', 'charge', 'refund', 'currency', 'proration', 'credit'] },
  { stems: ['identity', 'auth', 'accounts'], resources: ['sessions', 'tokens', 'users', 'logins'], nouns: ['session', 'token', 'tenant', 'scope', 'profile', 'mfa'] },
  { stems: ['shipping', 'fulfillment', 'logistics'], resources: ['shipments', 'labels', 'rates', 'pickups'], nouns: ['parcel', 'carrier', 'label', 'zone', 'pickup', 'rate'] },
  { stems: ['notifications', 'messaging', 'inbox'], resources: ['messages', 'threads', 'deliveries', 'templates'], nouns: ['template', 'channel', 'recipient', 'digest', 'locale', 'message'] },
  { stems: ['pricing', 'quotes', 'offers'], resources: ['quotes', 'prices', 'offers', 'plans'], nouns: ['price', 'plan', 'tier', 'region', 'bundle', 'quote'] },
  { stems: ['media', 'uploads', 'assets'], resources: ['uploads', 'images', 'thumbnails', 'assets'], nouns: ['asset', 'thumbnail', 'variant', 'codec', 'bucket', 'upload'] },
  { stems: ['booking', 'reservations', 'scheduling'], resources: ['bookings', 'slots', 'calendars', 'holds'], nouns: ['slot', 'booking', 'venue', 'calendar', 'hold', 'timezone'] },
  { stems: ['inventory', 'stock', 'warehouse'], resources: ['items', 'stock', 'reservations', 'locations'], nouns: ['sku', 'stock', 'location', 'batch', 'reservation', 'bin'] },
  { stems: ['payments', 'wallet', 'payouts'], resources: ['payments', 'payouts', 'wallets', 'transfers'], nouns: ['payout', 'wallet', 'transfer', 'mandate', 'card', 'settlement'] },
  { stems: ['feed', 'timeline', 'activity'], resources: ['feed', 'posts', 'reactions', 'follows'], nouns: ['post', 'reaction', 'follower', 'ranking', 'cursor', 'story'] },
];

export const SERVICE_SUFFIXES = ['-api', '-service', '-svc', '', '-gateway', '-backend', '-web', '-worker'];

export const ADJECTIVES = ['loyalty', 'gift', 'billing', 'preferred', 'legacy', 'partner', 'regional', 'bulk', 'promo', 'express', 'guest', 'primary', 'default', 'split', 'deferred', 'trial', 'custom', 'fallback', 'seasonal', 'vip'];
export const FIELD_NOUNS = ['tier', 'code', 'region', 'window', 'address', 'limit', 'owner', 'policy', 'label', 'locale', 'bucket', 'rule', 'level', 'mode', 'quota', 'score', 'group', 'plan'];

export const FIRST_NAMES = [
  'Diego', 'Yuki', 'Tomasz', 'Leah', 'Nora', 'Astrid', 'Anika', 'Kenji', 'Jonas', 'Pedro', 'Elena', 'Isabella', 'Camila',
  'Maria', 'Samuel', 'Mei-Ling', 'Ben', 'Mateo', 'Sofia', 'Priya', 'Claire', 'Ravi', 'Amara', 'Lukas', 'Fatima', 'Oskar',
  'Ingrid', 'Tariq', 'Hana', 'Wojciech', 'Chiara', 'Emeka', 'Freya', 'Haruto', 'Zainab', 'Mikael', 'Aroha', 'Dmitri',
  'Lucía', 'Kwame', 'Siobhan', 'Arjun', 'Noor', 'Bjorn', 'Thandiwe', 'Rafael', 'Yara', 'Malik',
];
export const LAST_NAMES = [
  'Morales', 'Tanaka', 'Nowicki', 'Goldberg', 'Svensson', 'Nilsen', 'Sharma', 'Watanabe', 'Becker', 'Almeida', 'Petrova',
  'Conti', 'Rojas', 'Kowalczyk', 'Osei', 'Hargreaves', 'Gutierrez', 'Marchetti', 'Raman', 'Okafor', 'Lindqvist',
  'Haddad', 'Ferreira', 'Nakamura', 'Zielinski', 'Abernathy', 'Castellano', 'Mbeki', 'Ivanova', 'Fitzgerald',
  'Takahashi', 'Vasquez', 'Oyelaran', 'Brannigan', 'Kaczmarek', 'Delacroix', 'Rasmussen', 'Achterberg', 'Quintero',
  'Szabo', 'Mwangi', 'Kapoor', 'Halvorsen', 'Villanueva',
];

export const PROD_ENVS = ['production', 'prod', 'prod-eu', 'prod-us', 'live', 'global', 'edge', 'all', 'us-east-1', 'eu-west-1', 'ap-southeast-2', 'prd'];
export const NONPROD_ENVS = ['staging', 'stage', 'dev', 'preview', 'qa', 'sandbox', 'test', 'development'];

export const FRAMEWORKS = ['express', 'flask', 'django', 'servlet', 'rack', 'aspnet_core', 'fastapi', 'gin', 'koa', 'spring'];

export const PROVIDER_STEMS = ['Pay', 'Ship', 'Mail', 'Geo', 'Tax', 'Sms', 'Kyc', 'Fraud', 'Push', 'Rate'];
export const PROVIDER_TAILS = ['lane', 'ly', 'wise', 'hub', 'grid', 'stack', 'bird', 'path', 'ora', 'nest', 'kit', 'flow'];

export const LIB_STEMS = ['swift', 'tidal', 'keel', 'brisk', 'nimble', 'sturdy', 'quarry', 'lattice', 'ember', 'harbor', 'pylon', 'sparrow'];
export const LIB_TAILS = ['http', 'pool', 'redis', 'pg', 'rpc', 'fetch', 'kafka', 'grpc', 'amqp', 'cache'];

export const TABLE_NOUNS = ['orders', 'line_items', 'invoices', 'sessions', 'shipments', 'payments', 'accounts', 'bookings', 'events', 'audit_log', 'stock_levels', 'notifications', 'subscriptions', 'carts'];

export const CHAT_NOISE = [
  'on the bridge now', 'who is IC?', 'bridge link is pinned in the channel', 'status page: investigating',
  'support is seeing tickets come in', 'muted the duplicate alerts', 'can we get a graph of the last hour in here?',
  'catching up, what do we know so far?', 'pinged the owners channel', 'customer success asking for an ETA',
  'let\'s not ship anything else until this is understood', 'I\'ll keep an eye on the queue depth', 'thanks',
  'ty :pray:', 'is staging affected too?', 'same symptoms from the EU side', 'taking notes in the incident doc',
  'anyone from the data team around?', 'status page wording looks good to me', 'back, had to switch laptops',
  'opening a zoom in case it is easier', ':eyes:', '+1', 'I can take comms', 'dashboards are a bit slow to load for me',
];

export const CODE_AREAS = ['handlers', 'services', 'core', 'domain', 'api', 'lib', 'internal', 'pkg'];

export function title(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

export function camel(parts: string[]): string {
  return parts.map((p, i) => (i === 0 ? p.toLowerCase() : title(p.toLowerCase()))).join('');
}

export function pascal(parts: string[]): string {
  return parts.map((p) => title(p.toLowerCase())).join('');
}

export function snake(parts: string[]): string {
  return parts.map((p) => p.toLowerCase()).join('_');
}

export function kebab(parts: string[]): string {
  return parts.map((p) => p.toLowerCase()).join('-');
}

/** a two-word identifier stem, e.g. ['loyalty', 'tier'] */
export function identifierParts(rng: Rng, avoid: ReadonlySet<string> = new Set()): string[] {
  for (let i = 0; i < 50; i++) {
    const parts = [rng.pick(ADJECTIVES), rng.pick(FIELD_NOUNS)];
    if (!avoid.has(parts.join(' '))) return parts;
  }
  return [rng.pick(ADJECTIVES), rng.pick(FIELD_NOUNS), String(rng.int(2, 9))];
}
