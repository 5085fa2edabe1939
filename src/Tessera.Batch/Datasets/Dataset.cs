using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Batch.Datasets;

/// <summary>Opens a dataset by its path (a folder of .npy files, or a .parquet file) and checks it against the model's inputs.</summary>
public static class Dataset
{
    public static async Task<IDataset> OpenAsync(string path, IReadOnlyList<ValueInfo> inputs, CancellationToken cancellation = default)
    {
        IDataset dataset;
        if (Directory.Exists(path))
        {
            dataset = NpyFolderDataset.Open(path, inputs);
        }
        else if (File.Exists(path) && path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
        {
            dataset = await ParquetDataset.OpenAsync(path, inputs, cancellation).ConfigureAwait(false);
        }
        else
        {
            throw new BatchException(File.Exists(path)
                ? $"the dataset '{path}' is neither a folder of .npy files nor a .parquet file"
                : $"the dataset '{path}' does not exist");
        }

        try
        {
            Check(dataset, inputs);
            return dataset;
        }
        catch
        {
            await dataset.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Each column against its model input: the element type, and the record's shape against the input's shape after axis 0.</summary>
    private static void Check(IDataset dataset, IReadOnlyList<ValueInfo> inputs)
    {
        if (dataset.Records == 0) throw new BatchException($"the dataset '{dataset.Source}' holds no records");
        foreach (var (column, input) in dataset.Columns.Zip(inputs))
        {
            if (input.ElementType != DataType.Undefined && column.DataType != input.ElementType)
            {
                throw new BatchException($"the dataset's '{column.Name}' holds {DataTypes.Name(column.DataType)}, but the model's input '{input.Name}' takes {DataTypes.Name(input.ElementType)}");
            }

            if (input.Shape is { } dims)
            {
                var record = dims.Skip(1).ToArray();
                bool fits = record.Length == column.RecordShape.Length && record.Zip(column.RecordShape).All(p => !p.First.IsKnown || p.First.Value == p.Second);
                if (!fits)
                {
                    throw new BatchException($"the dataset's '{column.Name}' has records of shape {ShapeMath.Format(column.RecordShape)}, but the model's input {input.Name}{input.FormatShape()} takes records of shape [{string.Join(",", record.Select(d => d.ToString()))}]");
                }
            }
        }
    }
}
