import { Inject, Injectable } from '@nestjs/common';
import { TENANT_STORE, type TenantStore } from '../tenants/tenant-store.js';

export interface ConnectHealthReport {
  status: 'ok' | 'unavailable';
  database: 'up' | 'down';
}

/** Whether the app can serve Connect requests: today, whether the tenant store answers in time. */
@Injectable()
export class ConnectHealth {
  constructor(@Inject(TENANT_STORE) private readonly tenants: TenantStore) {}

  async check(timeoutMs = 2000): Promise<ConnectHealthReport> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
    });
    try {
      await Promise.race([this.tenants.ping(), timeout]);
      return { status: 'ok', database: 'up' };
    } catch {
      return { status: 'unavailable', database: 'down' };
    } finally {
      clearTimeout(timer);
    }
  }
}
