import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

/** Lag over time: messages (left axis) and seconds (right axis). */
export function LagChart({ samples, label }: { samples: Array<{ at: number; lag: number | null; lagSeconds: number | null }>; label: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = ref.current;
    if (element === null) return;
    const style = getComputedStyle(document.documentElement);
    const text = style.getPropertyValue('--text').trim() || '#222';
    const grid = style.getPropertyValue('--border').trim() || '#ccc';
    const plot = new uPlot(
      {
        width: Math.max(320, element.clientWidth),
        height: 240,
        title: label,
        scales: { x: { time: true }, seconds: {} },
        axes: [
          { stroke: text, grid: { stroke: grid } },
          { stroke: text, grid: { stroke: grid }, label: 'messages' },
          { stroke: text, scale: 'seconds', side: 1, grid: { show: false }, label: 'seconds' },
        ],
        series: [
          {},
          { label: 'Lag (messages)', stroke: '#3b82f6', width: 2 },
          { label: 'Lag (seconds)', stroke: '#f59e0b', width: 2, scale: 'seconds' },
        ],
      },
      [samples.map((sample) => sample.at / 1_000), samples.map((sample) => sample.lag), samples.map((sample) => sample.lagSeconds)],
      element,
    );
    return () => plot.destroy();
  }, [samples, label]);
  return <div ref={ref} class="chart" role="img" aria-label={label} />;
}
