namespace AspireLlm.Api.ApiKeys;

/// <summary>What revocation must reach beyond the key cache: streams already open under a key.</summary>
public sealed partial class ApiKeyStore
{
    /// <summary>Those of <paramref name="keyIds"/> that are revoked.</summary>
    public async Task<IReadOnlyList<Guid>> RevokedAmongAsync(IReadOnlyCollection<Guid> keyIds, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT id FROM api_keys WHERE id = ANY($1) AND revoked_at IS NOT NULL");
        command.Parameters.AddWithValue(keyIds.ToArray());
        var revoked = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            revoked.Add(reader.GetGuid(0));
        }

        return revoked;
    }
}
