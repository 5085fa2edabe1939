using Tessera.Tensors;

namespace Tessera.Batch.Datasets;

/// <summary>One input of a dataset: its name, element type and the shape of one record's tensor.</summary>
public sealed record DatasetColumn(string Name, DataType DataType, int[] RecordShape)
{
    public long RecordBytes => RecordShape.Aggregate(1L, (n, d) => n * d) * DataTypes.SizeOf(DataType);
}
