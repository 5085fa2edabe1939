namespace Tessera.Cluster.Transport;

/// <summary>
/// How float32 tensors travel between processes (<see cref="Coordinator.CoordinatorOptions.WireDataType"/>): as they
/// are, or narrowed to a 16-bit float (rounded to nearest even) and widened back to float32 on receipt. The values are
/// ONNX <c>TensorProto.DataType</c> numbers, as on the wire.
/// </summary>
public enum WireDataType : byte
{
    /// <summary>Bit-identical: every tensor as it is (the default).</summary>
    Float32 = 1,

    /// <summary>IEEE half precision: 11 significant bits, finite up to 65504 (larger values become infinite).</summary>
    Float16 = 10,

    /// <summary>Brain float: float32's range, 8 significant bits.</summary>
    BFloat16 = 16,
}
