namespace Tessera.Cli.LoadGen;

/// <summary>A load run as given on the command line (already range-checked).</summary>
internal sealed record LoadSettings(
    Uri BaseUrl,
    string Model,
    string? ModelVersion,
    IReadOnlyList<string> InputSpecs,
    IReadOnlyList<string> ShapeSpecs,
    bool Binary,
    int Concurrency,
    TimeSpan Duration,
    TimeSpan Warmup,
    int? Priority,
    TimeSpan RequestTimeout,
    string? GrpcTarget = null)
{
    /// <summary>/v2/models/{name}[/versions/{v}], escaped.</summary>
    public string ModelPath => $"v2/models/{Uri.EscapeDataString(Model)}" + (ModelVersion is null ? "" : $"/versions/{Uri.EscapeDataString(ModelVersion)}");
}
