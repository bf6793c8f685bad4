import type { ChatAdapter } from '../ports/chat-adapter';
import type { PlatformOff } from '../ports/platform';
import type { Recipient } from '../ports/store';

/** adapterNamespace: where an adapter's own keys live in the store (AdapterContext.kv, DeliveryOutcome.remember). */
export function adapterNamespace(adapter: string): string {
  return `adapter:${adapter}`;
}

/**
 * AdapterRegistry is responsible for knowing which chat adapters run in this process and which of
 * them can reach a recipient, and which platforms were asked for but do not run. It is filled by
 * the composition root before start.
 */
export class AdapterRegistry {
  private readonly adapters = new Map<string, ChatAdapter>();
  private readonly off: PlatformOff[] = [];

  /** addOff: a platform its operator asked for that does not run (see PlatformOff): /healthz shows it. */
  addOff(off: PlatformOff): void {
    this.off.push(off);
  }
  /** notRunning: the platforms asked for that do not run, with why and the fix. */
  notRunning(): readonly PlatformOff[] {
    return this.off;
  }

  add(adapter: ChatAdapter): void {
    if (this.adapters.has(adapter.name)) throw new Error(`two chat adapters are named "${adapter.name}"`);
    this.adapters.set(adapter.name, adapter);
  }
  get(name: string): ChatAdapter | undefined {
    return this.adapters.get(name);
  }
  all(): ChatAdapter[] {
    return [...this.adapters.values()];
  }
  /** reaching: the adapters a delivery to `recipient` goes through (a guest: only their own). */
  reaching(recipient: Recipient): ChatAdapter[] {
    if (recipient.kind === 'guest') {
      const own = this.adapters.get(recipient.adapter);
      return own && own.canReach(recipient) ? [own] : [];
    }
    return this.all().filter((a) => a.canReach(recipient));
  }
}
