// Go's time.Duration.String() for whole milliseconds, because kubelet event texts print durations that way
// (e.g. `Successfully pulled image "nginx" in 1.234s`, `back-off 2m40s restarting failed container`).

function seconds(milliseconds: number): string {
  const whole = Math.floor(milliseconds / 1000);
  const fraction = milliseconds % 1000;
  if (fraction === 0) return `${whole}`;
  return `${whole}.${String(fraction).padStart(3, '0').replace(/0+$/, '')}`;
}

export function formatGoDuration(milliseconds: number): string {
  const ms = Math.max(0, Math.floor(milliseconds));
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const rest = ms % 60_000;
  if (hours > 0) return `${hours}h${minutes}m${seconds(rest)}s`;
  if (minutes > 0) return `${minutes}m${seconds(rest)}s`;
  return `${seconds(rest)}s`;
}
