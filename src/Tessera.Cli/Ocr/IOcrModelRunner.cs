using Tessera.Tensors;

namespace Tessera.Cli.Ocr;

/// <summary>Runs one of the PP-OCR models on a batch: in this process, or on workers.</summary>
internal interface IOcrModelRunner
{
    Task<Tensor> RunAsync(OcrModel model, Tensor input);
}
