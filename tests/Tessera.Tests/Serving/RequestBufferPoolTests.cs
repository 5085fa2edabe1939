using Tessera.Serving.Http;

namespace Tessera.Tests.Serving;

/// <summary>The request block pool: size classes, reuse of a returned block, the bound on what it keeps, alignment.</summary>
public sealed class RequestBufferPoolTests
{
    [Theory]
    [InlineData(1, 65536)]
    [InlineData(65537, 81920)]
    [InlineData(100000, 114688)]
    [InlineData(1 << 20, 1 << 20)]
    [InlineData((64 << 20) + 200, 80 << 20)]
    public void SizesRoundUpToAQuarterOfAPowerOfTwo(int bytes, int expected) => Assert.Equal(expected, RequestBufferPool.ClassSize(bytes));

    [Fact]
    public unsafe void AReturnedBlockIsReusedAndTheBoundIsKept()
    {
        var pool = new RequestBufferPool(200000);
        var a = pool.Rent(100000);
        a.Length = 10;
        fixed (byte* p = a.Span)
        {
            Assert.Equal(0, (long)p % RequestBuffer.Alignment);
        }

        a.Dispose();
        a.Dispose(); // a second return must not put it in twice
        Assert.Equal(a.Capacity, pool.PooledBytes);
        var b = pool.Rent(110000); // the same class
        Assert.Same(a, b);
        Assert.Equal(0, b.Length);
        Assert.NotSame(b, pool.Rent(110000)); // the pool had one

        var c = pool.Rent(150000); // 163840 bytes: with b back, more than the bound
        b.Dispose();
        c.Dispose();
        Assert.Equal(b.Capacity, pool.PooledBytes);
    }
}
