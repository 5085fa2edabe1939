using System.Buffers.Binary;
using System.Text;
using Tessera.Tensors;

namespace Tessera.Serving.Protocol;

/// <summary>
/// Decodes a tensor sent with the binary-data extension: raw little-endian elements in row-major order; BOOL one
/// byte each (0 or 1); BYTES each element as a 4-byte little-endian length followed by its bytes (read as UTF-8).
/// Numeric tensors are made over the received bytes themselves, not copied.
/// </summary>
internal static class BinaryTensorReader
{
    public static Tensor Read(PinnedBytes data, string name, DataType type, int[] shape)
    {
        int count = ShapeMath.ElementCount(shape);
        if (type == DataType.String)
        {
            return ReadStrings(data.Span, name, count, shape);
        }

        long expected = (long)count * DataTypes.SizeOf(type);
        if (data.Length != expected)
        {
            throw ServingException.BadRequest(
                $"input '{name}' has {data.Length} bytes of binary data, but {count} {WireDataTypes.Name(type)} values of shape {ShapeMath.Format(shape)} need {expected}");
        }

        if (type == DataType.Bool && data.Span.IndexOfAnyExcept((byte)0, (byte)1) >= 0)
        {
            throw ServingException.BadRequest($"input '{name}': BOOL binary data must hold only bytes 0 and 1");
        }

        return data.Wrap(type, shape);
    }

    private static Tensor ReadStrings(ReadOnlySpan<byte> data, string name, int count, int[] shape)
    {
        if (4L * count > data.Length)
        {
            throw ServingException.BadRequest($"input '{name}': {data.Length} bytes of binary BYTES data cannot hold the {count} elements of shape {ShapeMath.Format(shape)} (4 bytes of length each at least)");
        }

        var values = new string[count];
        int at = 0;
        for (int i = 0; i < count; i++)
        {
            if (data.Length - at < 4)
            {
                throw ServingException.BadRequest($"input '{name}': binary BYTES data ends after {i} of {count} elements");
            }

            uint length = BinaryPrimitives.ReadUInt32LittleEndian(data[at..]);
            at += 4;
            if (length > (uint)(data.Length - at))
            {
                throw ServingException.BadRequest($"input '{name}': BYTES element {i} claims {length} bytes, but only {data.Length - at} remain");
            }

            values[i] = Encoding.UTF8.GetString(data.Slice(at, (int)length));
            at += (int)length;
        }

        if (at != data.Length)
        {
            throw ServingException.BadRequest($"input '{name}': {data.Length - at} bytes of binary BYTES data are left after {count} elements");
        }

        return Tensor.FromStrings(values, shape);
    }
}
