using Tessera.Engine;
using Tessera.Partitioning.Cost;
using Tessera.Partitioning.Data;
using Tessera.Partitioning.Pipeline;
using Tessera.Tensors;

namespace Tessera.Tests.Partitioning;

public sealed class ScratchTests
{
    public static TheoryData<string> Models() => new(ConformanceSet.Names);

    [Theory]
    [MemberData(nameof(Models))]
    public void EqualCountPipelineAndDataSplit(string name)
    {
        var c = ConformanceSet.Get(name);
        var cost = ModelCost.Analyze(c.Model, c.InputShapes);
        int n = cost.Nodes.Count;
        foreach (int k in new[] { 3 })
        {
            var values = new Dictionary<string, Tensor>(c.Inputs, StringComparer.Ordinal);
            for (int s = 0; s < k; s++)
            {
                int first = s * n / k, last = (s + 1) * n / k - 1;
                var stage = StageExtractor.Extract(cost, first, last, $"stage{s}");
                var session = new InferenceSession(stage);
                var feeds = stage.Graph.Inputs.ToDictionary(i => i.Name, i => values[i.Name], StringComparer.Ordinal);
                values = new Dictionary<string, Tensor>(session.Run(feeds), StringComparer.Ordinal);
            }

            ConformanceSet.AssertBitIdentical(c.Expected, values, $"{name} pipeline {k}");
        }

        var whole = new InferenceSession(c.Model);
        int batch = c.Inputs.Values.First().Shape[0];
        var counts = BatchSplit.Counts(batch, [1.0, 2.0, 3.0]);
        var parts = new List<IReadOnlyDictionary<string, Tensor>>();
        int start = 0;
        foreach (int count in counts.Where(x => x > 0))
        {
            parts.Add(whole.Run(c.Inputs.ToDictionary(kv => kv.Key, kv => BatchSplit.Slice(kv.Value, 0, start, count))));
            start += count;
        }

        var joined = c.Expected.Keys.ToDictionary(k => k, k => BatchSplit.Concat(parts.Select(p => p[k]).ToList(), 0));
        ConformanceSet.AssertBitIdentical(c.Expected, joined, $"{name} data {string.Join(",", counts)}");
    }
}
