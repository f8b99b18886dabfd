import { Injectable, Logger } from '@nestjs/common';
import { OnDisabled, OnEnabled, OnInstalled, OnUninstalled, type ConnectLifecycleEvent } from 'atlassian-connect-nest';

/** Logs every lifecycle event: the example of reacting to installs with method decorators. */
@Injectable()
export class InstallationLog {
  private readonly logger = new Logger('InstallationLog');

  @OnInstalled()
  installed(event: ConnectLifecycleEvent): void {
    const kind = event.previous === null ? 'New install' : 'Re-install';
    this.logger.log(`${kind} of ${event.app.key} on ${event.tenant.baseUrl}.`);
  }

  @OnUninstalled()
  uninstalled(event: ConnectLifecycleEvent): void {
    this.logger.log(`${event.app.key} uninstalled from ${event.tenant.baseUrl}.`);
  }

  @OnEnabled()
  enabled(event: ConnectLifecycleEvent): void {
    this.logger.log(`${event.app.key} enabled on ${event.tenant.baseUrl}.`);
  }

  @OnDisabled()
  disabled(event: ConnectLifecycleEvent): void {
    this.logger.log(`${event.app.key} disabled on ${event.tenant.baseUrl}.`);
  }
}
