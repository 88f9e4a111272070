// Public API of @squid-ad/squid. Model side: config, presets, generator, discriminator,
// official checkpoint import. Training side: train*, checkpoint*, run*, score*.
export {};
