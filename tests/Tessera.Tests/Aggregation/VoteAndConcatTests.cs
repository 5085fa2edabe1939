using Tessera.Serving.Aggregation;
using Tessera.Tensors;

namespace Tessera.Tests.Aggregation;

/// <summary>Majority vote (class indices and scores, with its tie rule), concat along any axis, and output metadata.</summary>
public sealed class VoteAndConcatTests
{
    private static readonly AggregationSpec s_voteIndices = new() { Kind = AggregationKind.MajorityVote };
    private static readonly AggregationSpec s_voteScores = new() { Kind = AggregationKind.MajorityVote, VoteInput = VoteInput.Scores };

    [Fact]
    public void VoteOverClassIndicesTakesTheMostFrequentAndBreaksTiesBySmallestIndex()
    {
        var a = Tensor.FromArray(new[] { 3L, 1L, 7L, 2L }, 4);
        var b = Tensor.FromArray(new[] { 3L, 2L, 5L, 9L }, 4);
        var c = Tensor.FromArray(new[] { 1L, 2L, 6L, 9L }, 4);
        var d = Tensor.FromArray(new[] { 1L, 4L, 5L, 2L }, 4);

        // position 0: 3,3,1,1 tie -> 1; 1: 1,2,2,4 -> 2; 2: 7,5,6,5 -> 5; 3: 2,9,9,2 tie -> 2
        long[] expected = [1, 2, 5, 2];
        Assert.Equal(expected, PredictionAggregator.Aggregate(s_voteIndices, [a, b, c, d]).ToArray<long>());

        // The tie rule does not look at member order: every permutation gives the same answer.
        foreach (var order in Permutations([a, b, c, d]))
        {
            Assert.Equal(expected, PredictionAggregator.Aggregate(s_voteIndices, order).ToArray<long>());
        }
    }

    [Fact]
    public void VoteMatchesACountingReferenceForEveryIntegerType()
    {
        var random = new Random(11);
        foreach (var type in new[] { DataType.Int64, DataType.Int32, DataType.Int16, DataType.Int8, DataType.UInt64, DataType.UInt32, DataType.UInt16, DataType.UInt8 })
        {
            for (int n = 1; n <= 6; n++)
            {
                long[][] values = [.. Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, 50).Select(_ => (long)random.Next(0, 4)).ToArray())];
                var members = values.Select(v => FromLongs(type, v)).ToArray();
                var result = PredictionAggregator.Aggregate(s_voteIndices, members);
                Assert.Equal(type, result.DataType);
                long[] got = ToLongs(result);
                for (int i = 0; i < 50; i++)
                {
                    // Reference: count each class 0..3, keep the first (smallest) class with the top count.
                    int[] counts = new int[4];
                    foreach (var v in values) counts[v[i]]++;
                    Assert.Equal(Array.IndexOf(counts, counts.Max()), got[i]);
                }
            }
        }
    }

    [Fact]
    public void VoteOverScoresUsesEachMembersArgmaxAndDropsTheClassAxis()
    {
        // Three members, two samples, four classes (axis 1).
        var a = Tensor.FromArray(new[] { 0.1f, 0.6f, 0.2f, 0.1f, /**/ 0.9f, 0.0f, 0.1f, 0.0f }, 2, 4);
        var b = Tensor.FromArray(new[] { 0.1f, 0.2f, 0.6f, 0.1f, /**/ 0.2f, 0.2f, 0.3f, 0.3f }, 2, 4); // sample 1: tie 2/3 -> 2
        var c = Tensor.FromArray(new[] { 0.5f, 0.4f, 0.1f, 0.0f, /**/ 0.1f, 0.1f, 0.7f, 0.1f }, 2, 4);

        // sample 0 votes 1,2,0 (three-way tie -> 0); sample 1 votes 0,2,2 -> 2
        var result = PredictionAggregator.Aggregate(s_voteScores, [a, b, c]);
        Assert.Equal(DataType.Int64, result.DataType);
        Assert.Equal([2], result.Shape);
        Assert.Equal([0L, 2L], result.ToArray<long>());

        // The class axis may be any axis: the same scores transposed to [4,2] with axis 0.
        var spec0 = s_voteScores with { Axis = 0 };
        var at = Transpose(a);
        var bt = Transpose(b);
        var ct = Transpose(c);
        Assert.Equal([0L, 2L], PredictionAggregator.Aggregate(spec0, [at, bt, ct]).ToArray<long>());
    }

    [Fact]
    public void VoteOverScoresTreatsNaNAsTheMaximumLikeNumpy()
    {
        var a = Tensor.FromArray(new[] { 0.1, double.NaN, 0.9 }, 1, 3);
        var b = Tensor.FromArray(new[] { 0.1, 0.2, 0.9 }, 1, 3);
        var c = Tensor.FromArray(new[] { 0.1, 0.8, 0.0 }, 1, 3);
        Assert.Equal([1L], PredictionAggregator.Aggregate(s_voteScores, [a, b, c]).ToArray<long>());
    }

    [Fact]
    public void VoteRejectsFloatClassIndices()
    {
        var t = Tensor.FromArray(new[] { 1f }, 1);
        var e = Assert.Throws<AggregationException>(() => PredictionAggregator.Aggregate(s_voteIndices, [t, t]));
        Assert.Contains("not defined for float32 outputs (members must output integer class indices; vote over scores instead)", e.Message);
        var scalar = Tensor.Scalar(1f);
        Assert.Contains("no class axis", Assert.Throws<AggregationException>(() => PredictionAggregator.Aggregate(s_voteScores, [scalar])).Message);
        Assert.Contains("axis 2 is out of range", Assert.Throws<AggregationException>(
            () => PredictionAggregator.Aggregate(s_voteScores with { Axis = 2 }, [t])).Message);
    }

    [Fact]
    public void ConcatJoinsAlongAnyAxisInMemberOrder()
    {
        var a = Tensor.FromArray(new[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        var b = Tensor.FromArray(new[] { 7, 8, 9, 10 }, 2, 2);
        var last = PredictionAggregator.Aggregate(new AggregationSpec { Kind = AggregationKind.Concat }, [a, b]);
        Assert.Equal([2, 5], last.Shape);
        Assert.Equal([1, 2, 3, 7, 8, 4, 5, 6, 9, 10], last.ToArray<int>());

        var c = Tensor.FromArray(new[] { 11, 12, 13 }, 1, 3);
        var first = PredictionAggregator.Aggregate(new AggregationSpec { Kind = AggregationKind.Concat, Axis = 0 }, [a, c, a]);
        Assert.Equal([5, 3], first.Shape);
        Assert.Equal([1, 2, 3, 4, 5, 6, 11, 12, 13, 1, 2, 3, 4, 5, 6], first.ToArray<int>());

        var s1 = Tensor.FromStrings(["a", "b"], 2, 1);
        var s2 = Tensor.FromStrings(["c", "d"], 2, 1);
        var strings = PredictionAggregator.Aggregate(new AggregationSpec { Kind = AggregationKind.Concat, Axis = 1 }, [s1, s2]);
        Assert.Equal(["a", "c", "b", "d"], strings.Strings);
    }

    [Fact]
    public void ConcatMatchesAnIndexReference()
    {
        var random = new Random(5);
        int[] baseShape = [2, 3, 4];
        for (int axis = -3; axis < 3; axis++)
        {
            int ax = axis < 0 ? axis + 3 : axis;
            var members = Enumerable.Range(0, 3).Select(m =>
            {
                int[] shape = (int[])baseShape.Clone();
                shape[ax] = m + 1;
                var t = Tensor.Allocate(DataType.Float64, shape);
                for (int i = 0; i < t.Length; i++) t.Span<double>()[i] = random.NextDouble();
                return t;
            }).ToArray();
            var result = PredictionAggregator.Aggregate(new AggregationSpec { Kind = AggregationKind.Concat, Axis = axis }, members);
            Assert.Equal(6, result.Shape[ax]);
            var strides = ShapeMath.Strides(result.Shape);
            for (int i = 0; i < result.Length; i++)
            {
                int[] idx = [i / strides[0], i / strides[1] % result.Shape[1], i % result.Shape[2]];
                int m = 0, k = idx[ax];
                while (k >= members[m].Shape[ax]) k -= members[m++].Shape[ax];
                idx[ax] = k;
                var ms = ShapeMath.Strides(members[m].Shape);
                Assert.Equal(members[m].Span<double>()[(idx[0] * ms[0]) + (idx[1] * ms[1]) + idx[2]], result.Span<double>()[i]);
            }
        }
    }

    [Fact]
    public void ConcatRejectsMismatchedOtherDimensions()
    {
        var a = Tensor.FromArray(new[] { 1f, 2f, 3f, 4f }, 2, 2);
        var b = Tensor.FromArray(new[] { 1f, 2f, 3f }, 3, 1);
        var e = Assert.Throws<AggregationException>(() => PredictionAggregator.Aggregate(new AggregationSpec { Kind = AggregationKind.Concat }, [a, b]));
        Assert.Equal("concat along axis 1: member 1 outputs shape [3,1] but member 0 outputs [2,2] (only dimension 1 may differ)", e.Message);
        var rank1 = Tensor.FromArray(new[] { 1f }, 1);
        Assert.Contains("outputs rank 1", Assert.Throws<AggregationException>(
            () => PredictionAggregator.Aggregate(new AggregationSpec { Kind = AggregationKind.Concat }, [a, rank1])).Message);
    }

    [Fact]
    public void SpecDescribesTheOutputForMetadata()
    {
        long[][] shapes = [[-1, 10], [-1, 10]];
        Assert.Equal([-1L, 10], new AggregationSpec { Kind = AggregationKind.Mean }.OutputShape(shapes));
        Assert.Equal([-1L, 20], new AggregationSpec { Kind = AggregationKind.Concat }.OutputShape(shapes));
        Assert.Equal([-1L], s_voteScores.OutputShape(shapes));
        Assert.Equal(DataType.Int64, s_voteScores.OutputDataType(DataType.Float32));
        Assert.Equal(DataType.Float16, new AggregationSpec { Kind = AggregationKind.Mean }.OutputDataType(DataType.Float16));
        Assert.True(AggregationSpec.TryParseKind("Weighted-Mean", out var kind));
        Assert.Equal(AggregationKind.WeightedMean, kind);
        Assert.False(AggregationSpec.TryParseKind("median", out _));
        Assert.All(Enum.GetValues<AggregationKind>(), k => Assert.True(AggregationSpec.TryParseKind(AggregationSpec.NameOf(k), out var back) && back == k));
    }

    [Fact]
    public void BFloat16FromDoubleRoundsOnceFromTheExactValue()
    {
        // 1 + 2^-8 + 2^-30 rounds to float32 as 1 + 2^-8: an exact bfloat16 tie that would round down to even (1.0);
        // the true value is above the tie, so the correct bfloat16 is 1 + 2^-7.
        double v = 1 + Math.Pow(2, -8) + Math.Pow(2, -30);
        Assert.Equal(1 + Math.Pow(2, -7), BFloat16.FromDouble(v).ToSingle());
        Assert.Equal(1.0f, BFloat16.FromSingle((float)v).ToSingle());
        Assert.Equal(-(1 + Math.Pow(2, -7)), BFloat16.FromDouble(-v).ToSingle());
    }

    private static Tensor Transpose(Tensor t)
    {
        int r = t.Shape[0], c = t.Shape[1];
        var result = Tensor.Allocate(t.DataType, [c, r]);
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) result.Span<float>()[(j * r) + i] = t.Span<float>()[(i * c) + j];
        return result;
    }

    private static IEnumerable<Tensor[]> Permutations(Tensor[] items)
    {
        if (items.Length <= 1)
        {
            yield return items;
            yield break;
        }

        for (int i = 0; i < items.Length; i++)
        {
            foreach (var rest in Permutations([.. items.Take(i), .. items.Skip(i + 1)]))
            {
                yield return [items[i], .. rest];
            }
        }
    }

    private static Tensor FromLongs(DataType type, long[] v)
    {
        var t = Tensor.Allocate(type, [v.Length]);
        for (int i = 0; i < v.Length; i++)
        {
            switch (type)
            {
                case DataType.Int64: t.Span<long>()[i] = v[i]; break;
                case DataType.Int32: t.Span<int>()[i] = (int)v[i]; break;
                case DataType.Int16: t.Span<short>()[i] = (short)v[i]; break;
                case DataType.Int8: t.Span<sbyte>()[i] = (sbyte)v[i]; break;
                case DataType.UInt64: t.Span<ulong>()[i] = (ulong)v[i]; break;
                case DataType.UInt32: t.Span<uint>()[i] = (uint)v[i]; break;
                case DataType.UInt16: t.Span<ushort>()[i] = (ushort)v[i]; break;
                case DataType.UInt8: t.Span<byte>()[i] = (byte)v[i]; break;
            }
        }

        return t;
    }

    private static long[] ToLongs(Tensor t) => t.DataType switch
    {
        DataType.Int64 => t.ToArray<long>(),
        DataType.Int32 => [.. t.ToArray<int>().Select(v => (long)v)],
        DataType.Int16 => [.. t.ToArray<short>().Select(v => (long)v)],
        DataType.Int8 => [.. t.ToArray<sbyte>().Select(v => (long)v)],
        DataType.UInt64 => [.. t.ToArray<ulong>().Select(v => (long)v)],
        DataType.UInt32 => [.. t.ToArray<uint>().Select(v => (long)v)],
        DataType.UInt16 => [.. t.ToArray<ushort>().Select(v => (long)v)],
        DataType.UInt8 => [.. t.ToArray<byte>().Select(v => (long)v)],
        _ => throw new ArgumentException(t.ToString()),
    };
}
