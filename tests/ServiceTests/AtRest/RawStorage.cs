using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AspireLlm.Orchestration.Encryption;
using AspireLlm.ServiceTests.Api;
using Npgsql;
using StackExchange.Redis;

namespace AspireLlm.ServiceTests.AtRest;

/// <summary>Reads what Postgres and Redis really hold, below the code that seals and opens it.</summary>
internal static class RawStorage
{
    /// <summary>A value sealed with <paramref name="keyId"/>, in which none of <paramref name="plaintexts"/> can be read.</summary>
    public static void AssertSealed(byte[]? raw, string keyId, params string[] plaintexts)
    {
        Assert.NotNull(raw);
        Assert.Equal(keyId, ContentCipher.KeyIdOf(raw));
        var asText = Encoding.UTF8.GetString(raw);
        Assert.All(plaintexts, plaintext => Assert.DoesNotContain(plaintext, asText, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The first column of the first row of <paramref name="sql"/> (one parameter, <c>$1</c>).</summary>
    public static async Task<byte[]?> ReadAsync(this NpgsqlDataSource dataSource, string sql, object parameter)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.AddWithValue(parameter);
        return await command.ExecuteScalarAsync() is byte[] value ? value : null;
    }

    public static async Task<HashSet<RedisKey>> KeysAsync(this IConnectionMultiplexer redis, string pattern)
    {
        var keys = new HashSet<RedisKey>();
        await foreach (var key in redis.GetServers()[0].KeysAsync(pattern: pattern))
        {
            keys.Add(key);
        }

        return keys;
    }

    /// <summary>Submits a job through the Api and returns its id.</summary>
    public static async Task<Guid> SubmitAsync(this HttpClient client, JsonObject body)
    {
        using var response = await client.PostJobAsync(body);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    public static async Task<JsonElement> GetJsonAsync(this HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The assistant's text in a chat completion.</summary>
    public static string AnswerOf(JsonElement completion) =>
        completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
}
