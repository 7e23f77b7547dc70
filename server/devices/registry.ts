import type { PrismaClient } from "../platform/db/generated/client.ts";
import { verifyDeviceSecret } from "./secrets.ts";
import type { DeviceAuthenticator } from "../platform/broker.ts";

export interface RegisteredDevice {
  id: string;
  elevatorId: number | null;
  secretHash: string;
  disabled: boolean;
}

/** The device registry held in memory for the broker's logins and the ingest's lookups. */
export class DeviceRegistry implements DeviceAuthenticator {
  private readonly devices = new Map<string, RegisteredDevice>();

  constructor(private readonly prisma: PrismaClient) {}

  async load(): Promise<void> {
    const rows = await this.prisma.device.findMany({
      select: { id: true, elevatorId: true, secretHash: true, disabledAt: true },
    });
    this.devices.clear();
    for (const row of rows) {
      this.devices.set(row.id, {
        id: row.id,
        elevatorId: row.elevatorId,
        secretHash: row.secretHash,
        disabled: row.disabledAt !== null,
      });
    }
  }

  get(deviceId: string): RegisteredDevice | undefined {
    return this.devices.get(deviceId);
  }

  size(): number {
    return this.devices.size;
  }

  verify(deviceId: string, secret: string): boolean {
    const device = this.devices.get(deviceId);
    return !!device && !device.disabled && verifyDeviceSecret(secret, device.secretHash);
  }
}
