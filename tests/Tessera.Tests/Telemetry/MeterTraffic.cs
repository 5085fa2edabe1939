using Tessera.Tensors;
using Tessera.Tests.Serving;

namespace Tessera.Tests.Telemetry;

/// <summary>The traffic the metric tests read back: five good requests and one bad one to a model, then its /metrics text.</summary>
internal static class MeterTraffic
{
    public const int Successes = 5;

    public static async Task<string> SendAsync(TestServer server, string model)
    {
        var x = Tensor.FromArray(Enumerable.Range(0, 8).Select(i => i * 0.25f).ToArray(), 2, 4);
        for (int i = 0; i < Successes; i++)
        {
            var (status, body) = await server.PostJsonAsync($"/v2/models/{model}/infer", Wire.Request(Wire.Fp32Input("x", x)));
            Assert.True(status == 200, body.ToString());
        }

        var (bad, _) = await server.PostJsonAsync($"/v2/models/{model}/infer", "{\"inputs\": []}");
        Assert.Equal(400, bad);
        return await server.MetricsAsync();
    }
}
