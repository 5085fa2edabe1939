using System.Buffers;
using Tessera.Serving.Http;

namespace Tessera.Tests.Serving;

/// <summary>Kestrel's transport blocks: their size, reuse of a returned block, a double return, the bound on what is kept.</summary>
public sealed class TransportMemoryPoolTests
{
    [Fact]
    public void BlocksAreLargeReusedOnceReturnedAndKeptUpToTheBound()
    {
        using var pool = new TransportMemoryPool(maxFreeBlocks: 1);
        Assert.Equal(TransportMemoryPool.BlockBytes, pool.MaxBufferSize);
        var a = pool.Rent(4096); // Kestrel asks for 4 KiB and uses all it gets
        Assert.Equal(TransportMemoryPool.BlockBytes, a.Memory.Length);
        var b = pool.Rent();
        a.Dispose();
        a.Dispose(); // a second return must not put it in twice
        b.Dispose(); // over the bound of one free block: left to the collector

        var c = pool.Rent();
        var d = pool.Rent();
        Assert.Same(a, c);
        Assert.NotSame(a, d);
        Assert.NotSame(b, d);
        c.Dispose();
        d.Dispose();
    }

    [Fact]
    public void ASizeAboveTheBlockIsRefused()
    {
        using var pool = new TransportMemoryPool(4);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(TransportMemoryPool.BlockBytes + 1));
    }

    [Fact]
    public void TheFactorysPoolsKeepTheFreeBytesTheyAreGiven()
    {
        MemoryPool<byte> pool = new TransportMemoryPoolFactory(128L << 20).Create(); // the server gives twice --max-body-mb
        var rented = Enumerable.Range(0, 1100).Select(_ => pool.Rent()).ToList();
        rented.ForEach(r => r.Dispose());
        var again = Enumerable.Range(0, 1100).Select(_ => pool.Rent()).ToList();
        Assert.Equal(1024, again.Count(r => rented.Contains(r))); // 128 MiB of 128 KiB blocks came back
        again.ForEach(r => r.Dispose());
        pool.Dispose();
    }
}
