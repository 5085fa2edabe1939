using System.IO.Pipelines;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>The worker's recycled tensor storage, and tensors received into it.</summary>
public sealed class TensorPoolTests
{
    [Fact]
    public void ReturnedStorageIsReusedForTheSameSizeOnly()
    {
        var pool = new TensorPool();
        var first = pool.Allocate(DataType.Float32, [256, 1024]);
        nint address = Pointer(first);
        pool.Return(first);
        Assert.Equal(first.ByteLength, pool.PooledBytes);

        var other = pool.Allocate(DataType.Float32, [128, 1024]);
        Assert.NotEqual(address, Pointer(other));
        // Another element type of the same byte size takes the same block.
        var again = pool.Allocate(DataType.Int32, [1024, 256]);
        Assert.Equal(address, Pointer(again));
        Assert.Equal(0, pool.PooledBytes);
        Assert.Equal([1024, 256], again.Shape);
    }

    [Fact]
    public void SecondReturnsForeignTensorsAndSmallTensorsAreIgnored()
    {
        var pool = new TensorPool();
        var t = pool.Allocate(DataType.Float32, [64, 1024]);
        pool.Return(t);
        pool.Return(t);
        Assert.Equal(t.ByteLength, pool.PooledBytes);
        var a = pool.Allocate(DataType.Float32, [64, 1024]);
        var b = pool.Allocate(DataType.Float32, [64, 1024]);
        Assert.NotEqual(Pointer(a), Pointer(b));

        pool.Return(Tensor.Allocate(DataType.Float32, [64, 1024]));
        pool.Return(new TensorPool().Allocate(DataType.Float32, [64, 1024]));
        var small = pool.Allocate(DataType.Float32, [16]);
        pool.Return(small);
        Assert.Equal(0, pool.PooledBytes);
    }

    [Fact]
    public void ThePoolHoldsNoMoreThanItsBound()
    {
        var pool = new TensorPool(maxPooledBytes: 3 << 20);
        var tensors = Enumerable.Range(0, 4).Select(_ => pool.Allocate(DataType.UInt8, [1 << 20])).ToList();
        tensors.ForEach(pool.Return);
        Assert.Equal(3 << 20, pool.PooledBytes);
    }

    [Fact]
    public async Task TensorsReceivedThroughAPoolArriveIntactAndReuseReturnedStorage()
    {
        var limits = new TransportLimits { MaxControlFrameBytes = 1 << 20 };
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 256 * 1024, resumeWriterThreshold: 128 * 1024));
        var pool = new TensorPool();
        var writer = new FrameWriter(pipe.Writer.AsStream(), limits);
        var reader = new FrameReader(pipe.Reader.AsStream(), limits, pool);
        var first = ClusterFixture.Random([512, 1024], 3);
        var second = ClusterFixture.Random([512, 1024], 4);

        var send = writer.SendAsync(FrameType.Result, 1, new WireWriter().U16(1).Written, [new("t", first)], default);
        await reader.ReadAsync(TimeSpan.FromSeconds(5), default);
        var got = (await reader.ReadAsync(TimeSpan.FromSeconds(5), default))!.Tensor!;
        await send;
        Assert.Equal(first.ToArray<float>(), got.ToArray<float>());
        nint address = Pointer(got);
        pool.Return(got);

        send = writer.SendAsync(FrameType.Result, 2, new WireWriter().U16(1).Written, [new("t", second)], default);
        await reader.ReadAsync(TimeSpan.FromSeconds(5), default);
        var again = (await reader.ReadAsync(TimeSpan.FromSeconds(5), default))!.Tensor!;
        await send;
        Assert.Equal(address, Pointer(again));
        Assert.Equal(second.ToArray<float>(), again.ToArray<float>());
    }

    [Fact]
    public async Task AWriteThePeerDoesNotTakeTimesOutAndClosesTheConnection()
    {
        // Nobody reads: the pipe stops taking bytes, the tensor stays half-sent, and the writer gives up for good.
        var limits = new TransportLimits { ReadTimeout = TimeSpan.FromMilliseconds(300) };
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024));
        var writer = new FrameWriter(pipe.Writer.AsStream(), limits);
        var big = ClusterFixture.Random([768, 1024], 1);
        var timedOut = await Assert.ThrowsAsync<ClusterException>(() => writer.SendAsync(FrameType.Result, 1, new WireWriter().U16(1).Written, [new("t", big)], default));
        Assert.Equal(ClusterErrorCode.Timeout, timedOut.Code);
        var after = await Assert.ThrowsAsync<ClusterException>(() => writer.SendAsync(FrameType.Ping, 2, null, default));
        Assert.Equal(ClusterErrorCode.WorkerDown, after.Code);
    }

    private static unsafe nint Pointer(Tensor t) => (nint)t.Pointer;
}
