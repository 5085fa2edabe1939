using System.Text.Json;
using Tessera.Tests.Cluster;
using Tessera.Tests.Support;

namespace Tessera.Tests.Batch;

/// <summary>`--aggregate`: reductions over the records of the joined outputs, checked against the same sums over the single session's outputs.</summary>
public sealed class AggregateTests : IDisposable
{
    private readonly BatchFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public void SoftmaxMeanAndVoteOverTheRecordsMatchTheSingleSession()
    {
        string model = _fx.Model(4, 8);
        var x = ClusterFixture.Random([500, 4], 31);
        string data = _fx.NpyData("data", x);
        float[] y = BatchFixture.Reference(model, x).ToArray<float>();

        var expectedMean = new double[4];
        var votes = new long[4];
        for (int r = 0; r < 500; r++)
        {
            var row = y.AsSpan(r * 4, 4);
            double max = double.NegativeInfinity;
            foreach (float v in row) max = Math.Max(max, v);
            double[] e = [.. row.ToArray().Select(v => Math.Exp(v - max))];
            double sum = e.Sum();
            for (int c = 0; c < 4; c++) expectedMean[c] += e[c] / sum;
            int best = 0;
            for (int c = 1; c < 4; c++) best = row[c] > row[best] ? c : best;
            votes[best]++;
        }

        var softmax = Aggregate("softmax-mean", "soft");
        Assert.Equal(expectedMean.Select(v => v / 500), softmax.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()), new Close());
        Assert.Equal(1.0, softmax.GetProperty("values").EnumerateArray().Sum(v => v.GetDouble()), 9);

        var vote = Aggregate("vote", "vote");
        Assert.Equal(votes, vote.GetProperty("counts").EnumerateArray().Select(v => v.GetInt64()));
        Assert.Equal(Array.IndexOf(votes, votes.Max()), vote.GetProperty("class").GetInt32());

        JsonElement Aggregate(string kind, string output)
        {
            string folder = _fx.PathOf(output);
            var run = CliProcess.Run("batch", "--model", model, "--data", data, "--out", folder, "--workers", "2", "--shard-rows", "60", "--aggregate", kind);
            Assert.True(run.ExitCode == 0, run.Stderr);
            Assert.Contains($"{kind} of y:", run.Stdout);
            return BatchFixture.Manifest(folder).GetProperty("aggregate").GetProperty("y");
        }
    }

    private sealed class Close : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= 1e-12;

        public int GetHashCode(double v) => 0;
    }
}
