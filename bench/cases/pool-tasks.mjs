// Task module of the pool cases.
export function square(x) {
  return x * x;
}
export default square;
