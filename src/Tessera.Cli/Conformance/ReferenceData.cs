using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Cli.Conformance;

/// <summary>Reads a reference tensor file, undoing the quirks of how the ONNX 1.12 test generators stored some types.</summary>
internal static class ReferenceData
{
    public static unsafe Tensor Read(string path, DataType wanted)
    {
        var tensor = TensorProtoFormat.ReadFile(path);
        // numpy has no bfloat16, so the generators saved bfloat16 data as its uint16 bit patterns.
        if (wanted == DataType.BFloat16 && tensor.DataType == DataType.UInt16)
        {
            return Tensor.FromPointer(DataType.BFloat16, tensor.Shape, tensor.Pointer, tensor);
        }

        return tensor;
    }
}
