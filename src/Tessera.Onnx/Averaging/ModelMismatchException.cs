namespace Tessera.Onnx.Averaging;

/// <summary>
/// The models given to <see cref="ModelAverager"/> do not share one architecture. <see cref="Differences"/> holds
/// one line per difference, each naming the models it compares (see <see cref="ModelComparer"/>).
/// </summary>
public sealed class ModelMismatchException(IReadOnlyList<string> differences)
    : Exception($"the models differ in {differences.Count} place(s); the first: {differences[0]}")
{
    public IReadOnlyList<string> Differences { get; } = differences;
}
