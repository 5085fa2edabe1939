using Tessera.Engine;
using Tessera.Tensors;

namespace Tessera.Cli.Ocr;

/// <summary>The PP-OCR models in this process, each loaded on its first use.</summary>
internal sealed class LocalOcrRunner(OcrModelFiles files, SessionOptions options) : IOcrModelRunner
{
    private readonly Dictionary<OcrModel, InferenceSession> _sessions = [];

    public InferenceSession Session(OcrModel model)
    {
        if (!_sessions.TryGetValue(model, out var session))
        {
            session = InferenceSession.Load(files.PathOf(model), options);
            _sessions[model] = session;
        }

        return session;
    }

    public Task<Tensor> RunAsync(OcrModel model, Tensor input)
    {
        var session = Session(model);
        return Task.FromResult(session.Run(new Dictionary<string, Tensor> { [session.Inputs[0].Name] = input }).Values.First());
    }
}
