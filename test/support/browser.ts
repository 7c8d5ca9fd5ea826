/**
 * A real headless Chromium for the console's tests: Debian's package (hack/chromium.sh installs it)
 * driven by playwright-core, whose own browser downloads are not reachable here.
 */
import { execFileSync } from 'node:child_process';
import { chromium, type Browser } from 'playwright-core';

export async function launchBrowser(): Promise<Browser> {
  const executablePath = execFileSync('bash', ['hack/chromium.sh'], { encoding: 'utf8' }).trim();
  // Tests run as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath, args: ['--no-sandbox'] });
}
