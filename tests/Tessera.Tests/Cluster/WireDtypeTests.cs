using System.Diagnostics;
using System.Runtime.InteropServices;
using Tessera.Cluster.Transport;
using Tessera.Cluster.Transport.Messages;
using Tessera.Cluster.Transport.SharedMemory;
using Tessera.Tensors;

namespace Tessera.Tests.Cluster;

/// <summary>
/// The wire data type's conversions against independent references (NumPy's float16 <c>astype</c>, PyTorch's
/// bfloat16, both Debian's), and its frames: narrowed on the way, float32 again on receipt, over TCP's path and the
/// shared-memory ring; an unknown or impossible wire type is Malformed.
/// </summary>
public sealed class WireDtypeTests
{
    [Fact]
    public void NarrowingMatchesNumpyFloat16AndTorchBFloat16BitForBit()
    {
        float[] values = EdgeCasesAndRandom();
        string dir = Directory.CreateTempSubdirectory("tessera-wire-").FullName;
        try
        {
            string input = Path.Combine(dir, "x.f32"), half = Path.Combine(dir, "x.f16"), brain = Path.Combine(dir, "x.bf16");
            File.WriteAllBytes(input, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
            RunPython(
                "import sys, numpy as np, torch\n" +
                "x = np.fromfile(sys.argv[1], dtype='<f4')\n" +
                "with np.errstate(over='ignore'): x.astype(np.float16).view('<u2').tofile(sys.argv[2])\n" +
                "torch.from_numpy(x.copy()).to(torch.bfloat16).view(torch.int16).numpy().view('<u2').tofile(sys.argv[3])\n" +
                "print('ok')",
                input, half, brain);
            ushort[] numpyHalf = MemoryMarshal.Cast<byte, ushort>(File.ReadAllBytes(half)).ToArray();
            ushort[] torchBrain = MemoryMarshal.Cast<byte, ushort>(File.ReadAllBytes(brain)).ToArray();

            AssertNarrowsAs(values, WireDataType.Float16, numpyHalf, h => float.IsNaN((float)BitConverter.UInt16BitsToHalf(h)));
            AssertNarrowsAs(values, WireDataType.BFloat16, torchBrain, b => float.IsNaN(new BFloat16(b).ToSingle()));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(WireDataType.Float16)]
    [InlineData(WireDataType.BFloat16)]
    public async Task FramesCarryNarrowedFloatTensorsAndOtherTypesAsTheyAre(WireDataType wire)
    {
        // 100 000 floats: far more than the writer's and the reader's 64 KiB buffers, so both convert piece by piece.
        var x = Tensor.FromArray(EdgeCasesAndRandom(100_000), 4, 25_000);
        var ids = Tensor.FromArray(new long[] { 1, -2, long.MaxValue }, 3);
        var stream = new MemoryStream();
        var writer = new FrameWriter(stream, TransportLimits.Default);
        await writer.SendAsync(FrameType.Run, 7, ReadOnlyMemory<byte>.Empty, [new("x", x), new("ids", ids)], default, wire);

        int xMeta = TensorMeta.For("x", x, wire).Size, idsMeta = TensorMeta.For("ids", ids, wire).Size;
        Assert.Equal((3 * FrameHeader.Size) + xMeta + (x.Length * 2) + idsMeta + ids.ByteLength, stream.Length);

        stream.Position = 0;
        var reader = new FrameReader(stream, TransportLimits.Default);
        Assert.Equal(FrameType.Run, (await reader.ReadAsync(TimeSpan.FromSeconds(5), default))!.Type);
        var got = (await reader.ReadAsync(TimeSpan.FromSeconds(5), default))!.Tensor!;
        Assert.Equal(DataType.Float32, got.DataType);
        Assert.Equal(x.Shape, got.Shape);
        AssertEqualBits(RoundTrip(x.Span<float>(), wire), got.Span<float>());
        Assert.Equal(ids.ToArray<long>(), (await reader.ReadAsync(TimeSpan.FromSeconds(5), default))!.Tensor!.ToArray<long>());
    }

    [Theory]
    [InlineData(WireDataType.Float16)]
    [InlineData(WireDataType.BFloat16)]
    public void TheSharedMemoryRingNarrowsAndWidensToo(WireDataType wire)
    {
        using var segment = SharedSegment.Create(1 << 16, 0, out _);
        var writer = segment.NewToServerRing();
        var reader = segment.NewToServerRing();
        float[] values = EdgeCasesAndRandom(10_001);
        var encoding = WireEncoding.For(DataType.Float32, wire);
        Assert.True(writer.TryWrite(MemoryMarshal.AsBytes(values.AsSpan()), encoding, out long position));
        var back = new float[values.Length];
        reader.Read(position, MemoryMarshal.AsBytes(back.AsSpan()), encoding);
        AssertEqualBits(RoundTrip(values, wire), back);
    }

    [Fact]
    public void UnknownOrImpossibleWireTypesAreMalformed()
    {
        // A float32 tensor may travel as float16 or bfloat16; nothing else may, nor be narrowed to anything else.
        foreach (var (type, wire, bytes) in new[] { (DataType.Float32, DataType.Int8, 6L), (DataType.Int64, DataType.Float16, 12), (DataType.Float16, DataType.BFloat16, 12), (DataType.Float32, (DataType)200, 12) })
        {
            var meta = new TensorMeta("t", type, [6], bytes, wire);
            var metaBytes = new byte[meta.Size];
            meta.Write(metaBytes);
            var e = Assert.Throws<ClusterException>(() => TensorMeta.Read(metaBytes));
            Assert.Equal(ClusterErrorCode.Malformed, e.Code);
            Assert.Contains("wire data type", e.Message);
        }

        // The byte length counts elements of the wire type: a narrowed tensor announcing float32's bytes is refused.
        var wrongLength = new TensorMeta("t", DataType.Float32, [6], 24, DataType.Float16);
        var wrongBytes = new byte[wrongLength.Size];
        wrongLength.Write(wrongBytes);
        Assert.Equal(ClusterErrorCode.Malformed, Assert.Throws<ClusterException>(() => TensorMeta.Read(wrongBytes)).Code);

        var run = new RunMessage(1, Guid.NewGuid(), 0, 0, [new RouteStage(new byte[32], "127.0.0.1:1", ["x"])], ["y"]) { Wire = WireDataType.BFloat16 };
        byte[] payload = run.Write().Written.ToArray();
        Assert.Equal(WireDataType.BFloat16, RunMessage.Read(payload).Wire);
        payload[^1] = 11;
        var bad = Assert.Throws<ClusterException>(() => RunMessage.Read(payload));
        Assert.Equal(ClusterErrorCode.Malformed, bad.Code);
        Assert.Contains("wire data type 11", bad.Message);

        var block = new CollectiveMessage(CollectiveKind.Block, 0, 2, 0, Guid.NewGuid(), "k", string.Empty) { Wire = WireDataType.Float16 };
        byte[] blockBytes = block.Write(8).Written.ToArray();
        Assert.Equal(WireDataType.Float16, CollectiveMessage.Read(blockBytes, 8).Wire);
        blockBytes[1] = (byte)WireDataType.Float32; // a raw block is 0, never 1
        Assert.Equal(ClusterErrorCode.Malformed, Assert.Throws<ClusterException>(() => CollectiveMessage.Read(blockBytes, 8)).Code);
        var abort = new CollectiveMessage(CollectiveKind.Abort, 0, 2, 0, Guid.NewGuid(), string.Empty, "why") { Wire = WireDataType.BFloat16 };
        Assert.Equal(ClusterErrorCode.Malformed, Assert.Throws<ClusterException>(() => CollectiveMessage.Read(abort.Write(0).Written.Span, 0)).Code);
    }

    /// <summary>What a value becomes after the wire, by .NET's scalar conversions (independent of the vectorised ones).</summary>
    private static float[] RoundTrip(ReadOnlySpan<float> values, WireDataType wire)
    {
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = wire == WireDataType.Float16 ? (float)(Half)values[i] : BFloat16.FromSingle(values[i]).ToSingle();
        }

        return result;
    }

    private static void AssertNarrowsAs(float[] values, WireDataType wire, ushort[] reference, Func<ushort, bool> isNaN)
    {
        Assert.Equal(values.Length, reference.Length);
        var encoding = WireEncoding.For(DataType.Float32, wire);
        var wireBytes = new byte[values.Length * 2];
        encoding.Encode(MemoryMarshal.AsBytes(values.AsSpan()), wireBytes);
        var narrowed = MemoryMarshal.Cast<byte, ushort>(wireBytes);
        for (int i = 0; i < values.Length; i++)
        {
            // NaN stays NaN; its payload bits are not specified (NumPy and .NET pick different quiet NaNs).
            bool same = narrowed[i] == reference[i] || (isNaN(narrowed[i]) && isNaN(reference[i]));
            Assert.True(same, $"{wire}: {values[i]:R} (0x{BitConverter.SingleToUInt32Bits(values[i]):X8}) became 0x{narrowed[i]:X4}, the reference 0x{reference[i]:X4}");
        }

        // Widening is exact: the float32 of each narrowed value.
        var widened = new float[values.Length];
        encoding.Decode(wireBytes, MemoryMarshal.AsBytes(widened.AsSpan()));
        AssertEqualBits(RoundTrip(values, wire), widened);
    }

    private static void AssertEqualBits(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (!(float.IsNaN(expected[i]) && float.IsNaN(actual[i])) && BitConverter.SingleToUInt32Bits(expected[i]) != BitConverter.SingleToUInt32Bits(actual[i]))
            {
                Assert.Fail($"element {i}: expected {expected[i]:R}, got {actual[i]:R}");
            }
        }
    }

    /// <summary>
    /// Signed zeros, infinities, NaNs, float16's subnormals, largest finite and overflow boundary, halfway cases of
    /// both formats (ties to even, both ways), float32 subnormals; then random values over many magnitudes and random
    /// bit patterns. An odd count, so the vectorised loops leave a scalar tail.
    /// </summary>
    private static float[] EdgeCasesAndRandom(int count = 4099)
    {
        float halfUlpOfOne = MathF.Pow(2, -11), brainUlpOfOne = MathF.Pow(2, -8);
        var values = new List<float>
        {
            0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, -float.NaN, BitConverter.UInt32BitsToSingle(0x7F800001),
            float.MaxValue, float.MinValue, float.Epsilon, -float.Epsilon, 1e-40f, 1.1754942e-38f,
            65504f, -65504f, 65519.996f, 65520f, -65520f, 70000f, 1e6f, -1e6f,
            MathF.Pow(2, -24), MathF.Pow(2, -25), MathF.Pow(2, -25) * 1.0001f, MathF.Pow(2, -24) * 1.5f, MathF.Pow(2, -14), MathF.Pow(2, -14) * 0.99f, 6e-8f, -3e-8f,
            1f + halfUlpOfOne, 1f + (3 * halfUlpOfOne), -1f - halfUlpOfOne, 1f + brainUlpOfOne, 1f + (3 * brainUlpOfOne), -(1f + (3 * brainUlpOfOne)),
            3.3895314e38f, 3.3961776e38f, 0.1f, -0.1f, 1f / 3, MathF.PI, 2048.5f, 4097f,
        };
        var random = new Random(16);
        while (values.Count < count)
        {
            values.Add(values.Count % 3 == 0
                ? BitConverter.UInt32BitsToSingle((uint)random.NextInt64(0, 1L << 32))
                : (float)((random.NextDouble() - 0.5) * Math.Pow(2, random.Next(-30, 20))));
        }

        return [.. values.Take(count)];
    }

    private static void RunPython(string script, params string[] args)
    {
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        foreach (string a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(120_000));
        Assert.True(process.ExitCode == 0 && stdout.Trim() == "ok", stderr.Result);
    }
}
