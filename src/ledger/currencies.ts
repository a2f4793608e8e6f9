export interface Currency {
  code: string;
  name: string;
  scale: number;
  kind: 'fiat' | 'crypto';
}

export const currencyCodePattern = /^[A-Z][A-Z0-9]{2,9}$/;
