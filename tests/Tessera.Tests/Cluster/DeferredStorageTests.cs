using System.Runtime.InteropServices;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.SharedMemory;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>Tensors whose bytes a source writes on demand: straight into the shared ring, else into their own storage first.</summary>
public sealed class DeferredStorageTests : IDisposable
{
    private readonly ClusterFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    [Fact]
    public async Task AConnectionSendsDeferredBytesThroughSharedMemoryAndASourceThatFailsBreaksIt()
    {
        var limits = TransportLimits.Default with { SharedMemoryBytes = 1 << 20, ReadTimeout = TimeSpan.FromSeconds(5) };
        var (connected, accepted) = await _fx.ConnectedPairAsync(limits);
        await using var client = connected;
        await using var server = accepted;
        Assert.Equal("shared memory", client.TensorPath);

        using var source = new CountingSource(rows: 2, rowFloats: 50_000);
        var tensor = source.Tensor([2, 50_000]);
        Assert.Equal(source.Expected, await SendAsync(client, server, 1, tensor));
        Assert.All(tensor.ToArray<float>(), v => Assert.Equal(0f, v)); // written into the ring only

        // The control frame may be out before the source fails: the connection cannot carry another message.
        source.Fail = true;
        await Assert.ThrowsAsync<IOException>(() => client.Writer.SendAsync(FrameType.Result, 2, new WireWriter().U16(1).Written, [new("x", tensor)], default));
        var closed = await Assert.ThrowsAsync<ClusterException>(() => client.Writer.SendAsync(FrameType.Ping, 3, null, default));
        Assert.Equal(ClusterErrorCode.WorkerDown, closed.Code);
    }

    [Fact]
    public async Task OverTcpADeferredTensorIsFilledInItsOwnStorageOnceThenSent()
    {
        var limits = TransportLimits.Default with { SharedMemoryBytes = 0, ReadTimeout = TimeSpan.FromSeconds(5) };
        var (connected, accepted) = await _fx.ConnectedPairAsync(limits);
        await using var client = connected;
        await using var server = accepted;
        Assert.NotEqual("shared memory", client.TensorPath);

        using var source = new CountingSource(rows: 2, rowFloats: 50_000);
        var tensor = source.Tensor([2, 50_000]);
        for (ulong request = 1; request <= 2; request++)
        {
            Assert.Equal(source.Expected, await SendAsync(client, server, request, tensor));
        }

        Assert.Equal(source.Expected, tensor.ToArray<float>());
        Assert.Single(source.Writes); // filled whole, once, for both sends
    }

    [Fact]
    public unsafe void TheRingHasAViewsBytesWrittenByTheSourceAndLeavesTheStorageUnfilled()
    {
        using var source = new CountingSource(rows: 4, rowFloats: 3000);
        var whole = Tensor.FromPointer(DataType.Float32, [4, 3000], source.Pointer, source);
        var rows = Tensor.FromPointer(DataType.Float32, [2, 3000], whole.Pointer + (1 * 3000 * sizeof(float)), whole); // a view: rows 1..2
        using var segment = SharedSegment.Create(1 << 20, 0, out _);
        var raw = new WireEncoding(DataType.Float32, DataType.Float32);

        Assert.True(segment.NewToServerRing().TryWrite(rows, raw, out long position));
        var back = new float[2 * 3000];
        segment.NewToServerRing().Read(position, MemoryMarshal.AsBytes(back.AsSpan()), raw);

        Assert.Equal(source.Expected[3000..9000], back);
        Assert.Equal([(3000L * sizeof(float), 2L * 3000 * sizeof(float))], source.Writes);
        Assert.All(whole.ToArray<float>(), v => Assert.Equal(0f, v)); // nothing was read into the storage
    }

    [Fact]
    public unsafe void ANarrowedTensorFillsItsStorageOnceAndIsEncodedFromIt()
    {
        using var source = new CountingSource(rows: 2, rowFloats: 5000);
        var tensor = Tensor.FromPointer(DataType.Float32, [2, 5000], source.Pointer, source);
        using var segment = SharedSegment.Create(1 << 20, 0, out _);
        var half = new WireEncoding(DataType.Float32, DataType.Float16);

        Assert.True(segment.NewToServerRing().TryWrite(tensor, half, out long position));
        var back = new float[2 * 5000];
        segment.NewToServerRing().Read(position, MemoryMarshal.AsBytes(back.AsSpan()), half);

        Assert.Equal(source.Expected.Select(v => (float)(Half)v), back);
        Assert.Equal(source.Expected, tensor.ToArray<float>());
        DeferredStorage.Materialize(tensor);
        Assert.Single(source.Writes); // filled once, whole
    }

    [Fact]
    public unsafe void AFilledStorageIsCopiedFromWithoutAskingTheSourceAgain()
    {
        using var source = new CountingSource(rows: 2, rowFloats: 100);
        var tensor = Tensor.FromPointer(DataType.Float32, [2, 100], source.Pointer, source);
        source.Materialize();
        var copy = new float[200];
        source.WriteTo(tensor, MemoryMarshal.AsBytes(copy.AsSpan()));

        Assert.Equal(source.Expected, copy);
        Assert.Single(source.Writes);
        var elsewhere = Tensor.FromArray(new float[200], [2, 100]);
        Assert.Throws<ArgumentException>(() => source.WriteTo(elsewhere, MemoryMarshal.AsBytes(copy.AsSpan())));
    }

    /// <summary>Sends <paramref name="tensor"/> as a RESULT's one tensor and returns the floats the other side read.</summary>
    private static async Task<float[]> SendAsync(ClusterConnection client, ClusterConnection server, ulong request, Tensor tensor)
    {
        await client.Writer.SendAsync(FrameType.Result, request, new WireWriter().U16(1).Written, [new("x", tensor)], default);
        Assert.Equal(FrameType.Result, (await server.Reader.ReadAsync(TimeSpan.FromSeconds(10), default))!.Type);
        return (await server.Reader.ReadAsync(TimeSpan.FromSeconds(10), default))!.Tensor!.ToArray<float>();
    }

    /// <summary>Rows of known random floats in native memory that start zeroed; records each range it was asked to write.</summary>
    private sealed unsafe class CountingSource(int rows, int rowFloats) : DeferredStorage(Alloc(rows * rowFloats), (long)rows * rowFloats * sizeof(float)), IDisposable
    {
        public float[] Expected { get; } = [.. Enumerable.Range(0, rows * rowFloats).Select(i => (float)Math.Sin(i * 0.37) * 3)];

        public List<(long Offset, long Bytes)> Writes { get; } = [];

        public bool Fail { get; set; }

        /// <summary>A tensor of <paramref name="shape"/> over the whole storage.</summary>
        public Tensor Tensor(int[] shape) => Tessera.Tensors.Tensor.FromPointer(DataType.Float32, shape, Pointer, this);

        public void Dispose() => NativeMemory.AlignedFree(Pointer);

        protected override void Write(long offset, Span<byte> destination)
        {
            if (Fail) throw new IOException("the source's file was cut short");
            Writes.Add((offset, destination.Length));
            MemoryMarshal.AsBytes(Expected.AsSpan()).Slice((int)offset, destination.Length).CopyTo(destination);
        }

        private static byte* Alloc(int floats)
        {
            var p = (byte*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);
            new Span<byte>(p, floats * sizeof(float)).Clear();
            return p;
        }
    }
}
