using System.Diagnostics;

namespace Tessera.Cli.LoadGen;

/// <summary>
/// Shows a run's progress on stderr (stdout stays for the report): a bar redrawn in place five times a second on a
/// terminal; otherwise (logs, pipes, tests) a plain line about every tenth of the run, at most one a second.
/// </summary>
internal static class LoadProgress
{
    private const int BarWidth = 30;

    public static async Task WatchAsync(LoadRunner runner, string description, Task run)
    {
        bool terminal = !Console.IsErrorRedirected;
        var error = Console.Error;
        error.WriteLine($"loadgen: {description}");
        var (_, _, total) = runner.Clock();
        var lineEvery = TimeSpan.FromSeconds(Math.Max(1, total / 10));
        long lastCount = 0;
        long lastTime = Stopwatch.GetTimestamp();
        long lastLine = lastTime;
        while (!run.IsCompleted)
        {
            await Task.WhenAny(run, Task.Delay(terminal ? 200 : 250)).ConfigureAwait(false);
            long now = Stopwatch.GetTimestamp();
            if (!terminal && Stopwatch.GetElapsedTime(lastLine, now) < lineEvery && !run.IsCompleted)
            {
                continue;
            }

            long count = runner.Completed;
            double rate = (count - lastCount) / Math.Max(1e-9, Stopwatch.GetElapsedTime(lastTime, now).TotalSeconds);
            (lastCount, lastTime, lastLine) = (count, now, now);
            var (phase, elapsed, phaseTotal) = runner.Clock();
            string counts = $"{elapsed,5:0.0}/{phaseTotal:0.0} s  {count,10:N0} requests  {rate,9:N0}/s  {runner.Failed:N0} errors";
            if (terminal)
            {
                int filled = phaseTotal > 0 ? (int)Math.Round(BarWidth * Math.Clamp(elapsed / phaseTotal, 0, 1)) : BarWidth;
                error.Write($"\r\u001b[K{phase,-6} [{new string('#', filled)}{new string('.', BarWidth - filled)}] {counts}");
            }
            else if (!run.IsCompleted)
            {
                error.WriteLine($"loadgen: {phase} {counts}");
            }
        }

        if (terminal)
        {
            error.Write("\r\u001b[K");
        }
    }
}
