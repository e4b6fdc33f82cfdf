/** Resolves on the first SIGINT or SIGTERM (after calling `onSignal`); `dispose` removes the handlers. */
export function onStopSignal(onSignal: (signal: NodeJS.Signals) => void = () => undefined): { requested: Promise<NodeJS.Signals>; dispose: () => void } {
  let dispose = (): void => undefined;
  const requested = new Promise<NodeJS.Signals>((resolve) => {
    const handler = (signal: NodeJS.Signals): void => {
      onSignal(signal);
      resolve(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    dispose = () => {
      process.removeListener('SIGINT', handler);
      process.removeListener('SIGTERM', handler);
    };
  });
  return { requested, dispose };
}
