// Vercel Function (Node.js runtime) receiving PagerDuty v3 webhooks: the Web-standard handler
// verifies, records and enqueues each delivery in PostgreSQL. Environment variables (Project
// Settings): HINDSIGHT_DATABASE_URL, PAGERDUTY_WEBHOOK_SECRET. Steps: docs/serverless.md.
export { POST } from 'hindsight/dist/serverless/web.js';
