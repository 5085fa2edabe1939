using System.Diagnostics;
using System.Runtime.InteropServices;
using Tessera.Kernels.Collective;
using Tessera.Tensors;

namespace Tessera.Tests.Kernels.Collective;

public sealed class InMemoryCollectiveGroupTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void AllReduceSumsInRankOrderAndEveryRankGetsTheSameBits(int size)
    {
        var group = new InMemoryCollectiveGroup(size, TimeSpan.FromSeconds(10));
        var random = new Random(7);
        var data = Enumerable.Range(0, size).Select(_ => Enumerable.Range(0, 1031).Select(_ => (float)(random.NextDouble() * 2e3 - 1e3)).ToArray()).ToArray();

        // Independent reference: plain scalar additions in rank order.
        var expected = new float[1031];
        for (int i = 0; i < expected.Length; i++)
        {
            float sum = data[0][i];
            for (int r = 1; r < size; r++) sum += data[r][i];
            expected[i] = sum;
        }

        var results = CollectiveTestRanks.Run(size, rank =>
        {
            var mine = (float[])data[rank].Clone();
            for (int round = 0; round < 3; round++)
            {
                mine = (float[])data[rank].Clone();
                group.Communicators[rank].AllReduceSum($"sum{round}", DataType.Float32, MemoryMarshal.AsBytes(mine.AsSpan()));
            }

            return mine;
        });

        foreach (var (result, error) in results)
        {
            Assert.Null(error);
            Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), result!.Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Fact]
    public void AllReduceSumsFloat16AndFloat64()
    {
        var group = new InMemoryCollectiveGroup(3, TimeSpan.FromSeconds(10));
        var results = CollectiveTestRanks.Run(3, rank =>
        {
            var halves = new[] { (Half)(rank + 0.5f), (Half)(-2 * rank) };
            var doubles = new[] { rank * 1e-9, 1e300 * (rank - 1) };
            group.Communicators[rank].AllReduceSum("h", DataType.Float16, MemoryMarshal.AsBytes(halves.AsSpan()));
            group.Communicators[rank].AllReduceSum("d", DataType.Float64, MemoryMarshal.AsBytes(doubles.AsSpan()));
            return (halves, doubles);
        });

        foreach (var (result, error) in results)
        {
            Assert.Null(error);
            Assert.Equal([(Half)4.5f, (Half)(-6f)], result.halves);
            Assert.Equal([(0 + 1e-9) + 2e-9, (-1e300 + 0) + 1e300], result.doubles);
        }
    }

    [Fact]
    public void AllReduceRejectsIntegers()
    {
        var group = new InMemoryCollectiveGroup(1);
        var ex = Assert.Throws<CollectiveException>(() => group.Communicators[0].AllReduceSum("k", DataType.Int32, new byte[8]));
        Assert.Contains("int32", ex.Message);
    }

    [Fact]
    public void AllGatherConcatenatesInRankOrder()
    {
        var group = new InMemoryCollectiveGroup(4, TimeSpan.FromSeconds(10));
        var results = CollectiveTestRanks.Run(4, rank =>
        {
            var gathered = new byte[12];
            group.Communicators[rank].AllGather("g", new byte[] { (byte)rank, (byte)(10 + rank), (byte)(20 + rank) }, gathered);
            return gathered;
        });

        foreach (var (result, error) in results)
        {
            Assert.Null(error);
            Assert.Equal(new byte[] { 0, 10, 20, 1, 11, 21, 2, 12, 22, 3, 13, 23 }, result);
        }
    }

    [Fact]
    public void ARankThatNeverArrivesTimesOutWithAClearErrorInsteadOfHanging()
    {
        var group = new InMemoryCollectiveGroup(3, TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();
        var results = CollectiveTestRanks.Run(2, rank =>
        {
            group.Communicators[rank].AllReduceSum("layer7", DataType.Float32, new byte[16]);
            return 0;
        });
        clock.Stop();

        foreach (var (_, error) in results)
        {
            var ex = Assert.IsType<CollectiveException>(error);
            Assert.Contains("'layer7'", ex.Message);
            Assert.Contains("rank 2 of 3 did not arrive", ex.Message);
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");

        // The group stays failed (a late rank must not pair with a later collective) until reset.
        Assert.True(group.IsAborted);
        var late = Assert.Throws<CollectiveException>(() => group.Communicators[2].AllReduceSum("layer7", DataType.Float32, new byte[16]));
        Assert.Contains("did not arrive", late.Message);

        group.Reset();
        var again = CollectiveTestRanks.Run(3, rank =>
        {
            var one = new[] { 1f };
            group.Communicators[rank].AllReduceSum("after", DataType.Float32, MemoryMarshal.AsBytes(one.AsSpan()));
            return one[0];
        });
        Assert.All(again, r => Assert.Equal(3f, r.Result));
    }

    [Fact]
    public void RanksThatDisagreeOnTheKeyOrLengthAreReported()
    {
        var group = new InMemoryCollectiveGroup(2, TimeSpan.FromSeconds(10));
        var results = CollectiveTestRanks.Run(2, rank =>
        {
            group.Communicators[rank].AllGather(rank == 0 ? "a" : "b", new byte[4], new byte[8]);
            return 0;
        });
        Assert.All(results, r => Assert.Contains("rank 0 at 'a' with 4 bytes, rank 1 at 'b' with 4 bytes", r.Error!.Message));

        group.Reset();
        results = CollectiveTestRanks.Run(2, rank =>
        {
            group.Communicators[rank].AllGather("same", new byte[4 * (rank + 1)], new byte[8 * (rank + 1)]);
            return 0;
        });
        Assert.All(results, r => Assert.Contains("rank 1 at 'same' with 8 bytes", r.Error!.Message));
    }

    [Fact]
    public void AbortWakesARankThatIsWaiting()
    {
        var group = new InMemoryCollectiveGroup(2, TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        var waiter = new Thread(() => { Thread.Sleep(200); group.Abort("rank 1 failed: boom"); });
        waiter.Start();
        var ex = Assert.Throws<CollectiveException>(() => group.Communicators[0].AllGather("x", new byte[1], new byte[2]));
        waiter.Join();
        Assert.Contains("rank 1 failed: boom", ex.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void TheDefaultAllReduceOfACommunicatorThatOnlyGathersGivesTheSameBits()
    {
        var group = new InMemoryCollectiveGroup(3, TimeSpan.FromSeconds(10));
        var random = new Random(3);
        var data = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 100).Select(_ => (float)random.NextDouble() - 0.5f).ToArray()).ToArray();
        var results = CollectiveTestRanks.Run(3, rank =>
        {
            var viaGroup = (float[])data[rank].Clone();
            var viaGather = (float[])data[rank].Clone();
            group.Communicators[rank].AllReduceSum("a", DataType.Float32, MemoryMarshal.AsBytes(viaGroup.AsSpan()));
            ICollectiveCommunicator gatherOnly = new GatherOnly(group.Communicators[rank]);
            gatherOnly.AllReduceSum("b", DataType.Float32, MemoryMarshal.AsBytes(viaGather.AsSpan()));
            return (viaGroup, viaGather);
        });

        Assert.All(results, r => Assert.Equal(r.Result.viaGroup, r.Result.viaGather));
    }

    [Fact]
    public void InvalidSizesAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryCollectiveGroup(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryCollectiveGroup(2, TimeSpan.Zero));
        var group = new InMemoryCollectiveGroup(2);
        Assert.Throws<ArgumentException>(() => group.Communicators[0].AllGather("k", new byte[4], new byte[4]));
    }

    /// <summary>A communicator that implements only the required primitive, as a network one may.</summary>
    private sealed class GatherOnly(ICollectiveCommunicator inner) : ICollectiveCommunicator
    {
        public int Rank => inner.Rank;

        public int Size => inner.Size;

        public void AllGather(string key, ReadOnlySpan<byte> local, Span<byte> gathered) => inner.AllGather(key, local, gathered);
    }
}
