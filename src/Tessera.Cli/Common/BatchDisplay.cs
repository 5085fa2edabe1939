using System.Globalization;
using Spectre.Console;
using Tessera.Batch.Results;
using Tessera.Batch.Scheduling;

namespace Tessera.Cli.Common;

/// <summary>
/// The progress of a batch job: a live bar on a terminal (records, records/s, time left, each worker's share), plain
/// lines every few seconds otherwise (logs, pipes); and the summary once it is done.
/// </summary>
internal static class BatchDisplay
{
    private static readonly TimeSpan LineEvery = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromMilliseconds(200);

    public static async Task<BatchManifest> ShowAsync(BatchProgress progress, Task<BatchManifest> run)
    {
        if (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
        {
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(ctx => Live(ctx, progress, run)).ConfigureAwait(false);
        }
        else
        {
            while (!run.IsCompleted)
            {
                await Task.WhenAny(run, Task.Delay(LineEvery)).ConfigureAwait(false);
                if (!run.IsCompleted) Console.WriteLine(Line(progress));
            }
        }

        return await run.ConfigureAwait(false);
    }

    private static async Task Live(ProgressContext context, BatchProgress progress, Task run)
    {
        var records = context.AddTask("records", maxValue: progress.Total);
        var workers = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
        while (true)
        {
            records.Value = progress.DoneBefore + progress.DoneNow;
            records.Description = string.Create(CultureInfo.InvariantCulture, $"records {records.Value:N0}/{progress.Total:N0}, {progress.RecordsPerSecond:N0}/s");
            foreach (var (name, work) in progress.Workers)
            {
                if (!workers.TryGetValue(name, out var task)) workers[name] = task = context.AddTask(Markup.Escape(name), maxValue: 100);
                task.Value = 100.0 * work.Records / Math.Max(progress.DoneNow, 1);
            }

            if (run.IsCompleted) break;
            await Task.WhenAny(run, Task.Delay(RefreshEvery)).ConfigureAwait(false);
        }

        if (run.IsCompletedSuccessfully) records.Value = progress.Total;
    }

    /// <summary>"batch: DONE/TOTAL records (P%), R records/s, ETA T; WORKER S%, ...".</summary>
    public static string Line(BatchProgress progress)
    {
        long done = progress.DoneBefore + progress.DoneNow;
        string eta = progress.Remaining is { } left ? left.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : "?";
        string shares = string.Join(", ", progress.Workers.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {100.0 * kv.Value.Records / Math.Max(progress.DoneNow, 1):F0}%")));
        return string.Create(CultureInfo.InvariantCulture, $"batch: {done}/{progress.Total} records ({100.0 * done / progress.Total:F1}%), {progress.RecordsPerSecond:F0} records/s, ETA {eta}; {shares}");
    }

    public static void Summary(BatchManifest manifest, BatchProgress? thisRun)
    {
        var invariant = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(invariant, $"batch: {manifest.Records} records in {manifest.Shards} shard(s), {manifest.Runs} run(s) from {manifest.Started:u} to {manifest.Ended:u}"));
        if (thisRun is not null)
        {
            Console.WriteLine(string.Create(invariant, $"  this run: {thisRun.DoneNow} records in {manifest.RunSeconds:F2} s ({thisRun.DoneNow / Math.Max(manifest.RunSeconds, 1e-9):F0} records/s); coordinator CPU {manifest.CoordinatorCpuSeconds:F2} s ({1e6 * manifest.CoordinatorCpuSeconds / Math.Max(thisRun.DoneNow, 1):F1} µs per record), peak resident memory {manifest.CoordinatorPeakRssBytes / 1048576.0:F0} MiB"));
            if (manifest.WorkersCpuSeconds is { } workersCpu)
            {
                Console.WriteLine(string.Create(invariant, $"  workers' CPU {workersCpu:F2} s ({1e3 * workersCpu / Math.Max(thisRun.DoneNow, 1):F3} ms per record)"));
            }
        }

        foreach (var (name, work) in manifest.Workers.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            Console.WriteLine(string.Create(invariant, $"  worker {name}: {work.Records} records ({100.0 * work.Records / manifest.Records:F1}%), busy {work.Seconds:F2} s"));
        }

        foreach (var (name, output) in manifest.Outputs)
        {
            Console.WriteLine($"  output {name}: {output.Dtype} [{string.Join(",", output.Shape)}]{(output.File is { } file ? $" -> {file}" : "")}");
        }

        foreach (var (name, result) in manifest.Aggregate ?? new Dictionary<string, AggregateResult>())
        {
            string value = result.Class is { } c
                ? $"class {c}, counts [{string.Join(", ", result.Counts!)}]"
                : $"[{string.Join(", ", result.Values!.Take(16).Select(v => v.ToString("G6", invariant)))}{(result.Values!.Length > 16 ? ", ..." : "")}]";
            Console.WriteLine($"  {result.Kind} of {name}: {value}");
        }

        Console.WriteLine($"  model sha256 {manifest.ModelSha256}");
    }
}
