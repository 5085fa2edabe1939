using System.Text;
using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Fuzz.Targets;

/// <summary>The .npy reader (<see cref="NpyFormat.Read"/>): what `tessera run --input NAME=FILE.npy` and the batch datasets read.</summary>
internal sealed class NpyTarget : FuzzTarget
{
    public override string Name => "npy";

    public override string Description => ".npy files (NpyFormat: magic, versions 1 to 3, the header's dict, data)";

    public override IReadOnlyList<byte[]> Dictionary { get; } = Tokens(
        "'descr'", "'shape'", "'fortran_order'", "'<f4'", "'<i8'", "'>f8'", "'|b1'", "'<u2'", "'<c8'", "True", "False", "(", ")", ",",
        "2147483647", "2147483648", "(65536, 65536, 8)", "-1", "L", "\u0093NUMPY");

    public override void Parse(ReadOnlySpan<byte> input) => NpyFormat.Read(new MemoryStream(input.ToArray(), writable: false));

    public override bool IsRefusal(Exception e) => e is InvalidDataException;

    public override IEnumerable<byte[]> Seeds(SeedFiles cache)
    {
        yield return Write(Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3));
        yield return Write(Tensor.FromArray(new long[] { -1, long.MaxValue }, 2));
        yield return Write(Tensor.FromArray(new[] { true, false, true }, 3));
        yield return Write(Tensor.FromArray(new Half[] { (Half)0.5 }, 1, 1, 1));
        yield return Write(Tensor.FromArray(new double[] { 3.25 }));
        yield return Write(Tensor.FromArray(Array.Empty<int>(), 0, 5));

        // Format version 2.0 (a 4-byte header length), as NumPy writes for a header over 64 KiB.
        string header = "{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }".PadRight(117) + "\n";
        yield return [0x93, .. "NUMPY"u8, 2, 0, (byte)header.Length, 0, 0, 0, .. Encoding.Latin1.GetBytes(header), 1, 0, 2, 0];
    }

    private static byte[] Write(Tensor tensor)
    {
        var stream = new MemoryStream();
        NpyFormat.Write(stream, tensor);
        return stream.ToArray();
    }
}
