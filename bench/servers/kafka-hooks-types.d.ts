// The part of @platformatic/kafka-hooks 0.6.4 the bench uses (the package ships no types).
declare module '@platformatic/kafka-hooks' {
  export interface ServiceCapability {
    /** listens when `listen` is true; resolves with the server's URL */
    start(options: { listen: boolean }): Promise<string>;
    stop(): Promise<void>;
  }
  /** A Platformatic service from a configuration object (as platformatic.json would hold it). */
  export function create(root: string, config: object): Promise<ServiceCapability>;
}
