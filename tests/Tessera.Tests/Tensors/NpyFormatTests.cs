using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Tests.Tensors;

public class NpyFormatTests
{
    [Fact]
    public void RoundTripsFloatTensor()
    {
        var t = Tensor.FromArray(new[] { 1f, -2.5f, 3f, float.NaN, 5f, 6f }, 2, 3);
        using var ms = new MemoryStream();
        NpyFormat.Write(ms, t);
        Assert.Equal(0, (ms.Length - t.ByteLength) % 64);
        ms.Position = 0;
        var back = NpyFormat.Read(ms);
        Assert.Equal(DataType.Float32, back.DataType);
        Assert.Equal(new[] { 2, 3 }, back.Shape);
        Assert.Equal(t.ToArray<float>(), back.ToArray<float>());
    }

    [Fact]
    public void RejectsTruncatedFile()
    {
        var t = Tensor.FromArray(new long[] { 1, 2, 3, 4 }, 4);
        using var ms = new MemoryStream();
        NpyFormat.Write(ms, t);
        var truncated = new MemoryStream(ms.ToArray()[..^5]);
        var e = Assert.Throws<InvalidDataException>(() => NpyFormat.Read(truncated));
        Assert.Contains("truncated", e.Message);
    }
}
