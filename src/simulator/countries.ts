// Default SelectInstance mapping (healthvault-protocol.md §3.1, §3.3): "US and US territories →
// US instance; every other supported country → EU instance" [S]. Which countries counted as
// "supported" was never published in the sources we have.

/** The United States and its territories [S] → instance "1". */
const US_AND_TERRITORIES = ['US', 'PR', 'GU', 'VI', 'AS', 'MP', 'UM'] as const;

/**
 * [I] The list of "other supported countries" is our choice: the United Kingdom (the EU
 * instance's home, platform.healthvault.co.uk) plus the EU/EEA countries and Switzerland.
 * Anything else gets no selected-instance. Override with the `countryInstances` config.
 */
const OTHER_SUPPORTED_COUNTRIES = [
  'GB', 'IE', 'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL',
  'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE', 'IS', 'LI', 'NO', 'CH',
] as const;

export const DEFAULT_COUNTRY_INSTANCES: Readonly<Record<string, string>> = Object.freeze(Object.fromEntries([
  ...US_AND_TERRITORIES.map((c) => [c, '1']),
  ...OTHER_SUPPORTED_COUNTRIES.map((c) => [c, '2']),
]));
