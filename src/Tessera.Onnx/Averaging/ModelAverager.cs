using System.Globalization;
using Tessera.Onnx.Graph;

namespace Tessera.Onnx.Averaging;

/// <summary>
/// Parameter averaging ("model soup", federated averaging): models of one architecture in, one model out whose
/// floating point tensors (float32, float64, float16, bfloat16 initializers and tensor attributes such as
/// Constant values, in subgraphs too) are the weighted mean of the inputs'. Integer, bool and string tensors
/// must be equal in every model and are kept. Everything else comes from the first model.
/// </summary>
public static class ModelAverager
{
    /// <summary>
    /// Averages <paramref name="models"/> (at least two) with <paramref name="weights"/> (default equal). Throws
    /// <see cref="ModelMismatchException"/> listing every difference found between the first model and each other
    /// one (named by <paramref name="names"/>), and <see cref="ArgumentException"/> for bad weights. The inputs
    /// are not modified; the result shares unchanged tensors with the first model.
    /// </summary>
    public static AveragingResult Average(IReadOnlyList<OnnxModel> models, IReadOnlyList<double>? weights = null, IReadOnlyList<string>? names = null)
    {
        if (models.Count < 2)
        {
            throw new ArgumentException($"averaging needs at least two models, got {models.Count}");
        }

        double[] w = NormaliseWeights(weights, models.Count);
        string Name(int i) => names is not null && i < names.Count ? names[i] : $"model {i}";
        var differences = new List<string>();
        for (int i = 1; i < models.Count; i++)
        {
            differences.AddRange(ModelComparer.Differences(models[0], models[i], Name(0), Name(i)));
        }

        if (differences.Count > 0)
        {
            throw new ModelMismatchException(differences);
        }

        var averager = new GraphAverager(w);
        var first = models[0];
        var model = new OnnxModel
        {
            IrVersion = first.IrVersion,
            ProducerName = first.ProducerName,
            ProducerVersion = first.ProducerVersion,
            Domain = first.Domain,
            ModelVersion = first.ModelVersion,
            DocString = first.DocString,
            OpsetImports = new(first.OpsetImports, StringComparer.Ordinal),
            Metadata = new(first.Metadata, StringComparer.Ordinal),
            Graph = averager.Average([.. models.Select(m => m.Graph)]),
        };
        return new AveragingResult(model, w, averager.AveragedTensors, averager.AveragedValues, averager.IdenticalTensors, averager.CheckedEqualTensors);
    }

    /// <summary>
    /// Default equal weights; otherwise one per model, finite and 0 or more with a positive sum, divided by their
    /// sum. Throws <see cref="ArgumentException"/> with a one-line reason.
    /// </summary>
    public static double[] NormaliseWeights(IReadOnlyList<double>? weights, int modelCount)
    {
        if (weights is null)
        {
            return [.. Enumerable.Repeat(1.0 / modelCount, modelCount)];
        }

        if (weights.Count != modelCount)
        {
            throw new ArgumentException($"{weights.Count} weight(s) for {modelCount} models: give one weight per model");
        }

        for (int i = 0; i < weights.Count; i++)
        {
            if (!double.IsFinite(weights[i]) || weights[i] < 0)
            {
                throw new ArgumentException(
                    $"weight {i + 1} is {weights[i].ToString(CultureInfo.InvariantCulture)}: weights must be finite numbers 0 or more");
            }
        }

        double sum = weights.Sum();
        return sum > 0 ? [.. weights.Select(x => x / sum)] : throw new ArgumentException("the weights sum to 0: at least one must be positive");
    }
}
