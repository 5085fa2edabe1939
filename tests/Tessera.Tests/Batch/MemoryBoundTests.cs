using System.Diagnostics;
using Tessera.Tensors;
using Tessera.Tensors.Formats;
using Tessera.Tests.Support;

namespace Tessera.Tests.Batch;

/// <summary>The coordinator streams: its peak resident memory stays far below the dataset's size.</summary>
public sealed class MemoryBoundTests : IDisposable
{
    private const int Width = 16384; // 64 KiB records
    private const int Records = 16384; // 1 GiB of records
    private const long Bound = 300L << 20;

    private readonly BatchFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public void AGibibyteDatasetPassesThroughACoordinatorBelow300MiB()
    {
        var model = new GraphBuilder()
            .Input("x", DataType.Float32, "N", Width)
            .Node("ReduceMax", ["x"], ["y"], "max", GraphBuilder.Ints("axes", 1), GraphBuilder.Int("keepdims", 1))
            .Output("y")
            .Build();
        string path = _fx.Cluster.Save(model, "max.onnx");
        string data = Directory.CreateDirectory(_fx.PathOf("data")).FullName;
        WriteRecords(Path.Combine(data, "x.npy"));
        string output = _fx.PathOf("out");

        using var job = new TesseraProcess(["batch", "--model", path, "--data", data, "--out", output, "--workers", "1"]);
        long peak = 0;
        while (!job.HasExited)
        {
            peak = Math.Max(peak, PeakResident(job.Pid));
            Thread.Sleep(20);
        }

        Assert.True(job.WaitForExit(TimeSpan.FromSeconds(5)));
        Assert.True(job.ExitCode == 0, job.Log);
        Assert.InRange(peak, 1, Bound);
        var y = NpyFormat.ReadFile(Path.Combine(output, "y.npy"));
        Assert.Equal([Records, 1], y.Shape);
        Assert.Equal(Enumerable.Range(0, Records).Select(r => (float)r), y.ToArray<float>()); // each record's largest value is its index
    }

    /// <summary>Record r holds r at its last position and smaller values before, written in pieces (never whole in memory).</summary>
    private static void WriteRecords(string path)
    {
        using var stream = File.Create(path);
        NpyFormat.WriteHeader(stream, DataType.Float32, [Records, Width]);
        var record = new float[Width];
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(record.AsSpan());
        for (int r = 0; r < Records; r++)
        {
            Array.Fill(record, r - 1f);
            record[^1] = r;
            stream.Write(bytes);
        }
    }

    /// <summary>VmHWM (peak resident set) of a process from /proc, in bytes; 0 once it is gone.</summary>
    private static long PeakResident(int pid)
    {
        try
        {
            string? line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
