import { verifyDeviceSecret } from "./secrets.ts";
import type { DeviceAuthenticator } from "../platform/broker.ts";
import type { DeviceRepository } from "./repository.ts";

export interface RegisteredDevice {
  id: string;
  elevatorId: number | null;
  secretHash: string;
  disabled: boolean;
}

/** The device registry held in memory for the broker's logins and the ingest's lookups. */
export class DeviceRegistry implements DeviceAuthenticator {
  private readonly devices = new Map<string, RegisteredDevice>();
  private readonly byElevator = new Map<number, string>();

  constructor(private readonly rows: Pick<DeviceRepository, "all">) {}

  async load(): Promise<void> {
    const rows = await this.rows.all();
    this.devices.clear();
    this.byElevator.clear();
    for (const row of rows) {
      this.set({ id: row.id, elevatorId: row.elevatorId, secretHash: row.secretHash, disabled: row.disabledAt !== null });
    }
  }

  /** Called after the registry's row changed (registration, binding, rotation, disabling): the broker's next login sees it. */
  set(device: RegisteredDevice): void {
    const previous = this.devices.get(device.id);
    if (previous?.elevatorId != null && this.byElevator.get(previous.elevatorId) === device.id) this.byElevator.delete(previous.elevatorId);
    this.devices.set(device.id, device);
    if (device.elevatorId !== null) this.byElevator.set(device.elevatorId, device.id);
  }

  deviceOfElevator(elevatorId: number): string | undefined {
    return this.byElevator.get(elevatorId);
  }

  all(): IterableIterator<RegisteredDevice> {
    return this.devices.values();
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
