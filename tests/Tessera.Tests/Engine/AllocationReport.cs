using System.Text;
using Tessera.Engine;
using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Tests.Engine;

/// <summary>
/// Not a check: with TESSERA_ALLOC_REPORT=path set, writes managed bytes allocated per steady-state inference for
/// each ORT case (outputs written into caller tensors), split by operator type, to that file. Rerun with
/// `TESSERA_ALLOC_REPORT=$PWD/artifacts/alloc.txt DOTNET_gcServer=0 dotnet test tests/Tessera.Tests -c Release --filter AllocationReport`.
/// </summary>
public sealed class AllocationReport
{
    [Fact]
    public void WriteReport()
    {
        string? path = Environment.GetEnvironmentVariable("TESSERA_ALLOC_REPORT");
        if (path is null || !Directory.Exists(TestPaths.OrtCases))
        {
            return;
        }

        int threads = int.TryParse(Environment.GetEnvironmentVariable("TESSERA_ALLOC_THREADS"), out int t) ? t : 1;
        var report = new StringBuilder($"managed bytes per inference, steady state, {threads} thread(s)\n");
        foreach (string dir in Directory.EnumerateDirectories(TestPaths.OrtCases).Order(StringComparer.Ordinal))
        {
            report.Append(Measure(dir, threads));
            File.WriteAllText(path, report.ToString());
        }
    }

    private static string Measure(string dir, int threads)
    {
        var session = InferenceSession.Load(Path.Combine(dir, "model.onnx"), new SessionOptions { Threads = threads });
        var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        string dataSet = Path.Combine(dir, "test_data_set_0");
        for (int i = 0; i < session.Inputs.Count; i++)
        {
            inputs[session.Inputs[i].Name] = TensorProtoFormat.ReadFile(Path.Combine(dataSet, $"input_{i}.pb"));
        }

        var outputs = session.Run(inputs).ToDictionary(p => p.Key, p => p.Value.Clone());
        for (int i = 0; i < 3; i++)
        {
            session.Run(inputs, outputs);
        }

        const int runs = 5;
        long before = GC.GetTotalAllocatedBytes(true);
        for (int i = 0; i < runs; i++)
        {
            session.Run(inputs, outputs);
        }

        long perRun = (GC.GetTotalAllocatedBytes(true) - before) / runs;
        var steps = session.Plan.Steps;
        session.Runner.StepAllocations = new long[steps.Length];
        session.Run(inputs, outputs);
        var byOp = new SortedDictionary<string, (long Bytes, int Steps)>(StringComparer.Ordinal);
        for (int s = 0; s < steps.Length; s++)
        {
            long bytes = session.Runner.StepAllocations[s];
            if (bytes > 0)
            {
                var (sum, count) = byOp.GetValueOrDefault(steps[s].Node.OpType);
                byOp[steps[s].Node.OpType] = (sum + bytes, count + 1);
            }
        }

        var line = new StringBuilder($"{Path.GetFileName(dir),-24} {perRun,12:N0} B/run  arena {session.ArenaBytes / 1024.0 / 1024.0:F1} MiB");
        foreach (var (op, (bytes, count)) in byOp.OrderByDescending(p => p.Value.Bytes))
        {
            line.Append($"  {op}:{bytes:N0}({count})");
        }

        return line.Append('\n').ToString();
    }
}
