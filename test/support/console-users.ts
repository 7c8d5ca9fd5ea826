/**
 * The console as three people see it on one control plane: each runs `agentrunbook console` with
 * a kubeconfig of their own (a client certificate the cluster CA issued), so every call the console
 * makes carries that person's identity, and RBAC and admission judge it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { loadClusterAccess, type ClusterAccess } from '../../src/kube/cluster-access.js';
import { startLocalConsole, type StartedConsole } from '../../src/console/start.js';
import { buildConsole, CONSOLE_OUT } from '../../hack/build-console.js';
import type { RunbookEnv } from './runbook-env.js';

export interface ConsoleUser {
  name: string;
  console: StartedConsole;
  /** API requests (and streams) the console made with this user's identity so far. */
  requests(): number;
}

/** Counts every request made with `access` (each one applies the credentials once). */
function counted(access: ClusterAccess): { access: ClusterAccess; count: () => number } {
  let made = 0;
  return {
    access: {
      server: access.server,
      applyTo: (options) => {
        made += 1;
        return access.applyTo(options);
      },
    },
    count: () => made,
  };
}

let built: Promise<unknown> | undefined;

export async function startConsoleFor(
  env: RunbookEnv,
  user: string,
  groups: string[] = [],
): Promise<ConsoleUser> {
  built ??= buildConsole();
  await built;
  const kubeconfig = await env.plane.kubeconfigForCertificate(`console-${user}`, user, groups);
  const { access, count } = counted(await loadClusterAccess(kubeconfig));
  const console = await startLocalConsole(access, { port: 0, assets: CONSOLE_OUT });
  return { name: user, console, requests: count };
}

/** Where screenshots go: $CONSOLE_SCREENSHOTS (docs/console to refresh the docs' pictures), else a temporary directory. */
export function screenshotDir(fallback: string): string {
  const dir = process.env.CONSOLE_SCREENSHOTS ?? fallback;
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function screenshot(page: Page, dir: string, name: string): Promise<void> {
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** A page with a phone's or a desk's viewport; a dialog (alert() from an injected script) fails the test. */
export async function openPage(
  browser: Browser,
  url: string,
  phone = false,
): Promise<{ page: Page; dialogs: string[] }> {
  const context = await browser.newContext(
    phone
      ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }
      : { viewport: { width: 1280, height: 900 } },
  );
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(url);
  return { page, dialogs };
}
