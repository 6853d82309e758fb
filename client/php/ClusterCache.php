<?php
// ClusterCache: the PHP client of clustercached's HTTP face (issue 16), for
// application nodes (Drupal, eZ Publish/Ibexa and the like). One file, PHP
// 8.1+ with the curl extension, no other dependency.
//
//   $cache = new ClusterCache\Client(['http://10.0.0.11:7412',
//                                     'http://10.0.0.12:7412'],
//                                    ['token' => getenv('CC_TOKEN')]);
//   $html = $cache->getOrGenerate('content-view', 'article-7',
//       fn() => render_article(7), ttl: 3600, tags: ['article-7', 'front']);
//   $cache->invalidateTags(['article-7']);          // role admin
//
//   $simple = new ClusterCache\SimpleCache($cache, 'content-view');
//   $simple->set('article-7', $html, 3600);          // PSR-16's shape
//   $html = $simple->get('article-7', 'default');
//
// getOrGenerate follows the server's lease protocol: a fresh entry is
// returned; a stale one is returned while another caller regenerates it;
// the one caller granted the lease runs the generator once and stores with
// its token (the store is rechecked: newer work is never overwritten); the
// others wait for that result. When the wait ends or the store is down, the
// generator runs and its result is returned without storing. A generator
// that throws gives the lease back first.
//
// Servers are tried in order: a node that cannot be reached (connect error
// or 503 from a stopping node) sends the call to the next.

declare(strict_types=1);

namespace ClusterCache;

final class Outcome
{
    public const HIT = 'hit';
    public const STALE = 'stale';
    public const MISS_LEASE = 'miss_lease';
    public const STALE_LEASE = 'stale_lease';
    public const TIMEOUT = 'timeout';
    public const UNAVAILABLE = 'unavailable';
    public const MISS = 'miss';  // the read route: no fresh entry
}

final class StoreOutcome
{
    public const STORED = 'stored';
    public const SUPERSEDED = 'superseded';
    public const LEASE_LOST = 'lease_lost';
}

final class Fetched
{
    public function __construct(
        public readonly string $outcome,
        public readonly ?string $payload = null,
        public readonly ?string $contentType = null,
        public readonly int $mtime = 0,          // cluster time, microseconds
        public readonly array $tags = [],
        public readonly ?string $leaseToken = null,
        public readonly int $leaseExpiresUs = 0,
        public readonly string $servedBy = '',
    ) {
    }

    public function leased(): bool
    {
        return $this->leaseToken !== null;
    }
}

final class Stored
{
    public function __construct(
        public readonly string $outcome,
        public readonly int $mtime = 0,
        public readonly string $etag = '',
    ) {
    }
}

class Error extends \RuntimeException
{
    public function __construct(
        string $message,
        public readonly int $status = 0,
        public readonly string $field = '',
    ) {
        parent::__construct($message, $status);
    }
}

// No server could be reached.
final class Unavailable extends Error
{
}

final class Client
{
    private array $servers;
    private array $options;
    private ?\CurlHandle $curl = null;

    /**
     * @param string[] $servers base URLs, e.g. http://127.0.0.1:7412
     * @param array $options token, timeout (seconds per call, default 10),
     *     connect_timeout (default 1), ca_file (https), tags_header (xkey)
     */
    public function __construct(array $servers, array $options = [])
    {
        if ($servers === []) {
            throw new \InvalidArgumentException('servers: give at least one');
        }
        $this->servers = array_map(fn($s) => rtrim((string)$s, '/'), $servers);
        $this->options = $options + [
            'token' => null, 'timeout' => 10.0, 'connect_timeout' => 1.0,
            'ca_file' => null, 'tags_header' => 'xkey',
        ];
    }

    /** The read route: a fresh entry (or a stale one when allowed), never a lease. */
    public function get(string $scope, string $name, bool $allowStale = false): Fetched
    {
        $r = $this->call('GET', self::entry($scope, $name) . ($allowStale ? '?stale=1' : ''));
        if ($r['status'] === 200) {
            return $this->fetched(str_contains($r['headers']['cache-status'] ?? '', 'fwd=stale')
                ? Outcome::STALE : Outcome::HIT, $r);
        }
        if ($r['status'] === 404) {
            return new Fetched(Outcome::MISS, servedBy: $r['headers']['served-by'] ?? '');
        }
        throw self::error($r);
    }

    /**
     * The lease protocol: every outcome of the server's Fetch.
     * @param float $wait seconds to wait for another holder's result
     * @param int $newerThan cluster microseconds: only an entry newer than this
     */
    public function fetch(string $scope, string $name, float $wait = 0.0, int $newerThan = 0): Fetched
    {
        $query = '?lease=1&wait=' . max(0, (int)round($wait * 1000)) . 'ms';
        if ($newerThan > 0) {
            $query .= '&newer_than=' . $newerThan;
        }
        $r = $this->call('GET', self::entry($scope, $name) . $query, null, [], $wait);
        $h = $r['headers'];
        $status = $h['cache-status'] ?? '';
        $leased = isset($h['lease-token']);
        return match (true) {
            $r['status'] === 200 => $this->fetched($leased ? Outcome::STALE_LEASE
                : (str_contains($status, 'fwd=stale') ? Outcome::STALE : Outcome::HIT), $r),
            $r['status'] === 404 && $leased => $this->fetched(Outcome::MISS_LEASE, $r),
            $r['status'] === 404 && str_contains($status, 'detail=timeout') =>
                new Fetched(Outcome::TIMEOUT, servedBy: $h['served-by'] ?? ''),
            $r['status'] === 503 && str_contains($status, 'detail=unavailable') =>
                new Fetched(Outcome::UNAVAILABLE),
            default => throw self::error($r),
        };
    }

    /**
     * Stores a payload; with the lease token from fetch(), the rechecked commit.
     * @param int $ttl seconds (0: no per-entry TTL)
     */
    public function store(
        string $scope,
        string $name,
        string $payload,
        ?string $leaseToken = null,
        int $ttl = 0,
        array $tags = [],
        ?string $contentType = null,
    ): Stored {
        $headers = [];
        if ($leaseToken !== null) {
            $headers[] = 'Lease-Token: ' . $leaseToken;
        }
        if ($contentType !== null) {
            $headers[] = 'Content-Type: ' . $contentType;
        }
        if ($tags !== []) {
            $headers[] = $this->options['tags_header'] . ': ' . implode(' ', $tags);
        }
        $path = self::entry($scope, $name) . ($ttl > 0 ? '?ttl=' . $ttl . 's' : '');
        $r = $this->call('PUT', $path, $payload, $headers);
        return match ($r['status']) {
            201 => new Stored(StoreOutcome::STORED, (int)($r['headers']['mtime'] ?? 0),
                $r['headers']['etag'] ?? ''),
            409 => new Stored(StoreOutcome::SUPERSEDED),
            412 => new Stored(StoreOutcome::LEASE_LOST),
            default => throw self::error($r),
        };
    }

    /** Gives a lease back; false when the token no longer held it. */
    public function release(string $scope, string $name, string $leaseToken): bool
    {
        $r = $this->call('DELETE', '/v1/leases/' . self::key($scope, $name), null,
            ['Lease-Token: ' . $leaseToken]);
        return match ($r['status']) {
            204 => true,
            409 => false,
            default => throw self::error($r),
        };
    }

    /**
     * The pattern of application nodes: see the top of this file.
     * @param callable(): string $generate
     * @param float $wait seconds to wait for another caller's result
     */
    public function getOrGenerate(
        string $scope,
        string $name,
        callable $generate,
        int $ttl = 0,
        array $tags = [],
        ?string $contentType = null,
        float $wait = 5.0,
    ): string {
        $f = $this->fetch($scope, $name, $wait);
        if ($f->outcome === Outcome::HIT || $f->outcome === Outcome::STALE) {
            return $f->payload;
        }
        if (!$f->leased()) {  // TIMEOUT, UNAVAILABLE: render, do not store
            return (string)$generate();
        }
        try {
            $payload = (string)$generate();
        } catch (\Throwable $e) {
            try {
                $this->release($scope, $name, $f->leaseToken);
            } catch (Error) {
                // the lease lapses by itself
            }
            throw $e;
        }
        try {
            $this->store($scope, $name, $payload, $f->leaseToken, $ttl, $tags, $contentType);
        } catch (Error) {
            // the caller still gets what it generated
        }
        return $payload;
    }

    // Admin (role admin).

    /** @return array<string,int> expiry key => new value (microseconds) */
    public function invalidateTags(array $tags): array
    {
        return $this->invalidate(['tags' => array_values($tags)]);
    }

    public function invalidateScope(string $scope): array
    {
        return $this->invalidate(['scope' => $scope]);
    }

    public function invalidateAll(): array
    {
        return $this->invalidate(['all' => true]);
    }

    /** Soft-expires one entry, or every entry of the scope whose name starts with $prefix. */
    public function expire(string $scope, ?string $name = null, ?string $prefix = null): int
    {
        return $this->count('/v1/expire', $scope, $name, $prefix);
    }

    public function delete(string $scope, ?string $name = null, ?string $prefix = null): int
    {
        return $this->count('/v1/delete', $scope, $name, $prefix);
    }

    public function stats(): array
    {
        return $this->json($this->call('GET', '/v1/stats'));
    }

    // Internals.

    private function invalidate(array $target): array
    {
        $j = $this->json($this->call('POST', '/v1/invalidate', json_encode($target),
            ['Content-Type: application/json']));
        $out = [];
        foreach ($j['keys'] as $kv) {
            $out[$kv['name']] = (int)$kv['value_us'];
        }
        return $out;
    }

    private function count(string $route, string $scope, ?string $name, ?string $prefix): int
    {
        $body = ['scope' => $scope] + ($name !== null ? ['name' => $name] : ['prefix' => $prefix ?? '']);
        return (int)$this->json($this->call('POST', $route, json_encode($body),
            ['Content-Type: application/json']))['count'];
    }

    private function fetched(string $outcome, array $r): Fetched
    {
        $h = $r['headers'];
        $tags = $h[strtolower($this->options['tags_header'])] ?? '';
        return new Fetched(
            $outcome,
            $outcome === Outcome::MISS_LEASE ? null : $r['body'],
            $h['content-type'] ?? null,
            (int)($h['mtime'] ?? 0),
            $tags === '' ? [] : explode(' ', $tags),
            $h['lease-token'] ?? null,
            (int)($h['lease-expires-us'] ?? 0),
            $h['served-by'] ?? '',
        );
    }

    private function json(array $r): array
    {
        if ($r['status'] !== 200) {
            throw self::error($r);
        }
        $j = json_decode($r['body'], true);
        if (!is_array($j)) {
            throw new Error('not JSON: ' . substr($r['body'], 0, 200), $r['status']);
        }
        return $j;
    }

    private static function error(array $r): Error
    {
        $j = json_decode($r['body'], true);
        $message = is_array($j) && isset($j['error']) ? $j['error'] : 'HTTP ' . $r['status'];
        return new Error($message, $r['status'], is_array($j) ? (string)($j['field'] ?? '') : '');
    }

    private static function key(string $scope, string $name): string
    {
        return rawurlencode($scope) . '/' . str_replace('%2F', '/', rawurlencode($name));
    }

    private static function entry(string $scope, string $name): string
    {
        return '/v1/entries/' . self::key($scope, $name);
    }

    /**
     * One request, tried on each server in turn while they cannot be reached.
     * @return array{status:int, headers:array<string,string>, body:string}
     */
    private function call(string $method, string $path, ?string $body = null, array $headers = [],
                          float $extraTime = 0.0): array
    {
        if ($this->options['token'] !== null && $this->options['token'] !== '') {
            $headers[] = 'Authorization: Bearer ' . $this->options['token'];
        }
        $last = null;
        foreach ($this->servers as $server) {
            $r = $this->once($server . $path, $method, $body, $headers, $extraTime);
            if (is_string($r)) {  // not reached
                $last = $server . ': ' . $r;
                continue;
            }
            // A stopping node: another may serve (the store being down is
            // an answer: the same everywhere).
            if ($r['status'] === 503 && str_contains($r['body'], 'stopping')) {
                $last = $server . ': stopping';
                continue;
            }
            return $r;
        }
        throw new Unavailable('no server answers (' . $last . ')');
    }

    /** @return array|string the answer, or why none came */
    private function once(string $url, string $method, ?string $body, array $headers, float $extraTime)
    {
        $this->curl ??= curl_init();
        $c = $this->curl;
        curl_reset($c);
        $answer = [];
        curl_setopt_array($c, [
            CURLOPT_URL => $url,
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_HTTPHEADER => array_merge($headers, ['Expect:']),
            CURLOPT_CONNECTTIMEOUT_MS => (int)($this->options['connect_timeout'] * 1000),
            CURLOPT_TIMEOUT_MS => (int)(($this->options['timeout'] + $extraTime) * 1000),
            CURLOPT_NOBODY => $method === 'HEAD',
            CURLOPT_HEADERFUNCTION => function ($c, string $line) use (&$answer): int {
                $colon = strpos($line, ':');
                if ($colon !== false) {
                    $answer[strtolower(trim(substr($line, 0, $colon)))] = trim(substr($line, $colon + 1));
                }
                return strlen($line);
            },
        ]);
        if ($body !== null) {
            curl_setopt($c, CURLOPT_POSTFIELDS, $body);
        }
        if ($this->options['ca_file'] !== null) {
            curl_setopt($c, CURLOPT_CAINFO, $this->options['ca_file']);
        }
        $out = curl_exec($c);
        if ($out === false) {
            return curl_error($c);
        }
        return ['status' => curl_getinfo($c, CURLINFO_RESPONSE_CODE), 'headers' => $answer,
            'body' => (string)$out];
    }
}

/**
 * PSR-16's shape (get, set, delete, has, clear and the Multiple variants)
 * over one scope of the cache, for code written against a simple cache.
 * Values are strings (serialize others yourself); a TTL is seconds, a
 * DateInterval or null (no per-entry TTL). delete and clear need the admin
 * role: clear invalidates the whole scope (soft: stale copies remain for
 * callers that accept them).
 */
final class SimpleCache
{
    public function __construct(private readonly Client $client, private readonly string $scope)
    {
    }

    public function get(string $key, mixed $default = null): mixed
    {
        $f = $this->client->get($this->scope, $key);
        return $f->outcome === Outcome::HIT ? $f->payload : $default;
    }

    public function set(string $key, mixed $value, null|int|\DateInterval $ttl = null): bool
    {
        if ($ttl instanceof \DateInterval) {
            $ttl = (new \DateTimeImmutable('@0'))->add($ttl)->getTimestamp();
        }
        if ($ttl !== null && $ttl <= 0) {  // PSR-16: expired at once
            return $this->delete($key);
        }
        return $this->client->store($this->scope, $key, (string)$value, null, $ttl ?? 0)->outcome
            === StoreOutcome::STORED;
    }

    public function delete(string $key): bool
    {
        $this->client->delete($this->scope, $key);
        return true;
    }

    public function has(string $key): bool
    {
        return $this->client->get($this->scope, $key)->outcome === Outcome::HIT;
    }

    public function clear(): bool
    {
        $this->client->invalidateScope($this->scope);
        return true;
    }

    public function getMultiple(iterable $keys, mixed $default = null): iterable
    {
        $out = [];
        foreach ($keys as $key) {
            $out[$key] = $this->get($key, $default);
        }
        return $out;
    }

    public function setMultiple(iterable $values, null|int|\DateInterval $ttl = null): bool
    {
        $ok = true;
        foreach ($values as $key => $value) {
            $ok = $this->set((string)$key, $value, $ttl) && $ok;
        }
        return $ok;
    }

    public function deleteMultiple(iterable $keys): bool
    {
        foreach ($keys as $key) {
            $this->delete($key);
        }
        return true;
    }
}
