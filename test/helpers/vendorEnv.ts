// The environment a user would set, pointed at the loopback fakes: the same variables work
// against real vendors, which is what these end-to-end tests prove.

export interface VendorFakes {
  pd: { url: string };
  slack: { url: string };
  gh: { url: string };
  dd: { url: string };
}

export interface VendorTokens {
  pd: string;
  slack: string;
  gh: string;
  ddApi: string;
  ddApp: string;
}

export function vendorEnv(opts: { home: string; config: string; fakes: VendorFakes; tokens: VendorTokens; repos: string[] }): NodeJS.ProcessEnv {
  const { fakes, tokens } = opts;
  return {
    PATH: process.env.PATH,
    HINDSIGHT_HOME: opts.home,
    HINDSIGHT_CONFIG: opts.config,
    PAGERDUTY_TOKEN: tokens.pd,
    PAGERDUTY_API_URL: fakes.pd.url,
    SLACK_BOT_TOKEN: tokens.slack,
    SLACK_API_URL: fakes.slack.url,
    GITHUB_TOKEN: tokens.gh,
    GITHUB_API_URL: fakes.gh.url,
    HINDSIGHT_GITHUB_REPOS: opts.repos.join(','),
    DD_API_KEY: tokens.ddApi,
    DD_APP_KEY: tokens.ddApp,
    DATADOG_API_URL: fakes.dd.url,
  };
}
