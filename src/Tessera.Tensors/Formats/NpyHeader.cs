namespace Tessera.Tensors.Formats;

/// <summary>What a .npy file's header says: the element type, the shape, and where the data starts in the file.</summary>
public sealed record NpyHeader(DataType DataType, int[] Shape, long DataOffset)
{
    /// <summary>Bytes of data the header declares.</summary>
    public long DataBytes => Shape.Aggregate(1L, (n, d) => n * d) * DataTypes.SizeOf(DataType);
}
