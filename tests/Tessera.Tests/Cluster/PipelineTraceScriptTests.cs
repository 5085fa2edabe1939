using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Tessera.Tests.Cluster;

/// <summary>
/// bench/pipeline-trace.py on a made-up timeline whose answer is worked out by hand: while fewer runs than cores are in
/// progress, the share of the window where a stage that neither computes nor sends holds a batch it has not started
/// (unread in its ring, or queued), and the share where no stage could start one.
/// </summary>
public sealed class PipelineTraceScriptTests
{
    [Fact]
    public void SplitsTheTimeWithFewerRunsThanCoresIntoHeldBatchesAndBubbles()
    {
        string dir = Directory.CreateTempSubdirectory("tessera-pipeline-trace").FullName;
        try
        {
            string prefix = Path.Combine(dir, "t");
            // Two batches through three stages, times in microseconds. Batch 1 waits at stage 1 from 400010 (unread
            // until 550000, then queued) to 600000 while only stage 0 computes (batch 2): 199990 held. Batch 2 reaches
            // stage 0 while stage 0 still sends batch 1 (not startable) and waits at stage 1 during stage 1's run and
            // send of batch 1 (not startable), then 10 more held (1000010-1000020) once stage 1 is free. Two runs are
            // in progress over 600000-800000 and 1000020-1050000 (excluded); everything else is a bubble.
            Write(prefix + ".worker.101.tsv",
                ("Request", 1, 0, 10, 400010), ("Run", 1, 0, 10, 400000), ("Send", 1, 0, 400000, 400010),
                ("Request", 2, 0, 400005, 800010), ("Run", 2, 0, 400010, 800000), ("Send", 2, 0, 800000, 800010));
            Write(prefix + ".worker.102.tsv",
                ("Request", 1, 1, 550000, 1000010), ("Run", 1, 1, 600000, 1000000), ("Send", 1, 1, 1000000, 1000010),
                ("Request", 2, 1, 1000020, 1050010), ("Run", 2, 1, 1000020, 1050000), ("Send", 2, 1, 1050000, 1050010));
            Write(prefix + ".worker.103.tsv",
                ("Request", 1, 2, 1000010, 1100010), ("Run", 1, 2, 1000010, 1100000), ("Send", 1, 2, 1100000, 1100010),
                ("Request", 2, 2, 1100010, 1150010), ("Run", 2, 2, 1100010, 1150000), ("Send", 2, 2, 1150000, 1150010));
            Write(prefix + ".bench-cluster.100.tsv",
                ("Batch", 1, 1, 0, 1100050), ("Send", 1, -1, 0, 10), ("Route", 1, 0, 0, 1100040), ("Receive", 1, 1, 1100020, 1100030),
                ("Batch", 2, 1, 400000, 1150050), ("Send", 2, -1, 400000, 400005), ("Route", 2, 0, 400000, 1150040), ("Receive", 2, 1, 1150020, 1150030));

            string output = Run(prefix);

            // Window 0-1150050; fewer than 2 runs: 1150050 - 200000 - 49980 = 900070 (78.3%); held 200000 (17.4%).
            Assert.Contains("while fewer than 2 runs were in progress (78.3% of the window)", output);
            Assert.Contains(" 17.4% of the window: a stage not computing held a batch it had not started", output);
            Assert.Contains(" 60.9% of the window: no stage could start one", output);
            Assert.Contains("stage 1 held one, not computing: 17.4%", output);
            Assert.DoesNotContain("stage 0 held one", output);
            Assert.DoesNotContain("stage 2 held one", output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Write(string path, params (string Kind, int Id, int Stage, double Start, double End)[] rows)
    {
        var text = new StringBuilder("kind\tid\tstage\trows\tstart_us\tend_us\tcpu_us\tthread\n");
        foreach (var (kind, id, stage, start, end) in rows)
        {
            text.Append(CultureInfo.InvariantCulture, $"{kind}\t{id}\t{stage}\t8\t{start:F1}\t{end:F1}\t{end - start:F1}\t1\n");
        }

        File.WriteAllText(path, text.ToString());
    }

    private static string Run(string prefix)
    {
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(TestPaths.RepositoryRoot, "bench", "pipeline-trace.py"));
        info.ArgumentList.Add(prefix);
        info.ArgumentList.Add("--cores");
        info.ArgumentList.Add("2");
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(60_000));
        Assert.True(process.ExitCode == 0, stderr.Result);
        return stdout;
    }
}
