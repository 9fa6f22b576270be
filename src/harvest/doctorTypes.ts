// What `hindsight doctor` shows per source; no field ever carries a secret.
export interface DoctorCheck {
  source: 'pagerduty' | 'opsgenie' | 'slack' | 'github' | 'datadog' | 'newrelic' | 'pinecone';
  configured: boolean;
  /** the API answered at all (null when not configured) */
  reachable: boolean | null;
  /** the credential was accepted (null when unknown) */
  authorized: boolean | null;
  /** permissions/scopes known to be missing, in the vendor's own names */
  missing: string[];
  /** one line: what was checked or what failed */
  detail: string;
}
