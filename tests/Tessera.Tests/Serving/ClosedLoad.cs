using System.Diagnostics;
using System.Text.Json;
using Tessera.Tensors;

namespace Tessera.Tests.Serving;

/// <summary>
/// Closed-loop load on one model for a bounded time: each client posts a request as soon as its last one is answered.
/// Every answer is recorded with its time; a 200's output is compared with the expected one. The load lasts at least
/// its duration and until the action run during it has ended, so that an action a starved machine slows (a worker
/// joining) still watches requests come.
/// </summary>
internal sealed class ClosedLoad
{
    private readonly List<(TimeSpan At, int Status, bool Correct, string Body)> _answers = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public TimeSpan Now => _clock.Elapsed;

    public static async Task<ClosedLoad> RunAsync(HttpClient client, string model, Tensor x, Func<JsonElement, bool> correct, int clients, TimeSpan duration, Func<ClosedLoad, Task>? during = null)
    {
        var load = new ClosedLoad();
        string body = Wire.Request(Wire.Fp32Input("x", x));
        bool duringEnded = during is null;
        async Task Client()
        {
            while (load.Now < duration || !Volatile.Read(ref duringEnded))
            {
                using var content = new StringContent(body);
                using var response = await client.PostAsync($"/v2/models/{model}/infer", content);
                string text = await response.Content.ReadAsStringAsync();
                bool ok = (int)response.StatusCode == 200 && correct(JsonDocument.Parse(text).RootElement);
                lock (load._answers) load._answers.Add((load.Now, (int)response.StatusCode, ok, text));
            }
        }

        var clientsDone = Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(Client)));
        if (during is not null)
        {
            try
            {
                await during(load);
            }
            finally
            {
                Volatile.Write(ref duringEnded, true);
            }
        }

        await clientsDone;
        return load;
    }

    public int Count => _answers.Count;

    /// <summary>Answers that were not a 200 with the expected output, as "status body" lines.</summary>
    public IReadOnlyList<string> Failures => [.. _answers.Where(a => !a.Correct).Select(a => $"{a.At.TotalSeconds:0.00} s: {a.Status} {a.Body}")];

    /// <summary>Correct answers after <paramref name="time"/>.</summary>
    public int CorrectAfter(TimeSpan time) => _answers.Count(a => a.Correct && a.At > time);

    /// <summary>The first correct answer after <paramref name="time"/>, or null.</summary>
    public TimeSpan? FirstCorrectAfter(TimeSpan time) => _answers.Where(a => a.Correct && a.At > time).Select(a => (TimeSpan?)a.At).Min();
}
