/**
 * The fields a purchasable top-up (`TopupPackage`) and a history entry's package (`PackageInfo`) share, as properties:
 * graphql-jit reads a property inline, where a resolver would cost a call and a resolve-info object per field.
 */
import { type MoneyValue, money } from './money.ts';

interface PackageFields {
  id: string;
  title: string;
  price: string | null;
  netPrice: string | null;
  currency: string;
  amountMb: number | null;
  validityDays: number | null;
  isUnlimited: boolean | null;
  dataLabel: string | null;
}

export class PackageView<P extends PackageFields> {
  protected readonly p: P;
  constructor(p: P) {
    this.p = p;
  }
  get id() {
    return this.p.id;
  }
  get title() {
    return this.p.title;
  }
  get price(): MoneyValue | null {
    return money(this.p.price, this.p.currency);
  }
  get netPrice() {
    return money(this.p.netPrice, this.p.currency);
  }
  get amountMb() {
    return this.p.amountMb;
  }
  get validityDays() {
    return this.p.validityDays;
  }
  get isUnlimited(): P['isUnlimited'] {
    return this.p.isUnlimited;
  }
  get dataLabel() {
    return this.p.dataLabel;
  }
}
