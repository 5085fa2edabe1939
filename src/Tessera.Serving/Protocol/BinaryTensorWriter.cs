using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Tessera.Tensors;

namespace Tessera.Serving.Protocol;

/// <summary>Writes a tensor in the binary-data extension's layout (see <see cref="BinaryTensorReader"/>).</summary>
internal static class BinaryTensorWriter
{
    public static long Size(Tensor tensor)
    {
        if (tensor.DataType != DataType.String)
        {
            return tensor.ByteLength;
        }

        long size = 0;
        foreach (string s in tensor.Strings)
        {
            size += 4 + Encoding.UTF8.GetByteCount(s);
        }

        return size;
    }

    public static void Write(IBufferWriter<byte> output, Tensor tensor)
    {
        if (tensor.DataType != DataType.String)
        {
            output.Write(tensor.Bytes);
            return;
        }

        foreach (string s in tensor.Strings)
        {
            int length = Encoding.UTF8.GetByteCount(s);
            var span = output.GetSpan(4 + length);
            BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)length);
            Encoding.UTF8.GetBytes(s, span[4..]);
            output.Advance(4 + length);
        }
    }
}
